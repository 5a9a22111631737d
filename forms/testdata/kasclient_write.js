// Builds a form the way a creation view does, with Kaizala's own
// KASClient.js classes, and prints KASForm.toJSON in both of its shapes:
// {"client": toClientJSON(), "web": toAPICompatibleJSON()}.
// Usage: node kasclient_write.js KASClient.js
global.window = {parent: {}, self: {}, top: {}, location: {href: ""}, navigator: {userAgent: "node"}};
global.document = {addEventListener() {}, createElement() { return {style: {}}; }, getElementsByTagName() { return []; }, body: {}};
global.navigator = window.navigator;
const fs = require("fs");
console.log = console.error = () => {};
(0, eval)(fs.readFileSync(process.argv[2], "utf8") + "\n;globalThis.KASClient = KASClient;");
const K = globalThis.KASClient;

const form = new K.KASForm();
form.title = "Team lunch";
form.isAnonymous = true;
form.expiry = 1795602600000;
form.visibility = K.KASFormResultVisibility.Admin;
form.isResponseAppended = false;
const q0 = new K.KASQuestion();
q0.id = 0; q0.title = "Where"; q0.type = K.KASQuestionType.SingleSelect;
for (const [i, t] of ["Canteen", "Park"].entries()) {
  const o = new K.KASQuestionOption(); o.id = i; o.text = t; q0.options.push(o);
}
q0.options[1].pictureUrl = "https://pics.example/park.png";
const q1 = new K.KASQuestion();
q1.id = 1; q1.title = "Extras"; q1.type = K.KASQuestionType.MultiSelect;
for (const [i, t] of ["Bread", "Tea"].entries()) {
  const o = new K.KASQuestionOption(); o.id = i; o.text = t; q1.options.push(o);
}
const q2 = new K.KASQuestion();
q2.id = 2; q2.title = "How many"; q2.type = K.KASQuestionType.Numeric; q2.isInvisible = true;
form.questions = [q0, q1, q2];
const p = new K.KASFormProperty();
p.name = "budget"; p.type = K.KASFormPropertyType.Numeric; p.value = "10";
form.properties = [p];
process.stdout.write(JSON.stringify({client: form.toClientJSON(), web: form.toAPICompatibleJSON()}));
