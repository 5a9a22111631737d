// Reads the JSON cardgate's forms package wrote with Kaizala's own
// KASClient.js fromJSON functions, and prints what a card sees.
// Usage: node kasclient_read.js KASClient.js input.json
// input.json: {"form": ..., "responses": [...], "flat": ..., "processed": ..., "aggregated": ...}
global.window = {parent: {}, self: {}, top: {}, location: {href: ""}, navigator: {userAgent: "node"}};
global.document = {addEventListener() {}, createElement() { return {style: {}}; }, getElementsByTagName() { return []; }, body: {}};
global.navigator = window.navigator;
const fs = require("fs");
console.log = console.error = () => {}; // KASClient.js logs its platform check
(0, eval)(fs.readFileSync(process.argv[2], "utf8") + "\n;globalThis.KASClient = KASClient;");
const input = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const K = globalThis.KASClient;

const form = K.KASForm.fromJSON(input.form);
const out = {
  form: {
    id: form.id, conversationId: form.conversationId, packageId: form.packageId, creatorId: form.creatorId,
    title: form.title, isAnonymous: form.isAnonymous, expiry: form.expiry, version: form.version,
    visibility: form.visibility, isResponseAppended: form.isResponseAppended, isLocationRequested: form.isLocationRequested,
    type: form.type,
    questions: form.questions.map(q => ({id: q.id, title: q.title, type: q.type, isInvisible: q.isInvisible,
      isEditable: q.isEditable, options: q.options.map(o => ({id: o.id, text: o.text, pictureUrl: o.pictureUrl}))})),
    properties: form.properties.map(p => ({name: p.name, type: p.type, value: p.value})),
  },
  responses: input.responses.map(r => {
    const x = K.KASFormResponse.fromJSON(r);
    return {id: x.id, sendTime: x.sendTime, questionToAnswerMap: x.questionToAnswerMap};
  }),
};
const flat = K.KASFormFlatSummary.fromJSON(input.flat, form.isResponseAppended);
out.flat = {formId: flat.formId, conversationId: flat.conversationId, respondedUserIds: flat.getRespondedUserIds().sort(),
  allResponses: flat.getAllResponses(), totalResponseCount: flat.getTotalResponseCount()};
const p = K.KASFormProcessedSummary.fromJSON(input.processed);
out.processed = {nonResponders: p.nonRespondersInConversation, targetResponderCount: p.targetResponderCount,
  totalResponseCount: p.totalResponseCount, results: {}};
for (const qid in p.results) {
  const r = p.results[qid];
  const o = {questionTitle: r.questionTitle, questionType: r.questionType, questionId: r.questionId};
  if (r instanceof K.KASOptionQuestionResult) {
    o.resultsOrder = r.getResultsOrder();
    o.options = {};
    for (const oid in r.optionResults) {
      const x = r.optionResults[oid];
      o.options[oid] = {optionTitle: x.optionTitle, optionId: x.optionId, total: x.totalResponsesCount, responders: x.responderToResponseCount};
    }
  } else {
    o.sum = r.sum; o.average = r.average;
  }
  out.processed.results[qid] = o;
}
const a = K.KASFormAggregatedSummary.fromJSON(input.aggregated, form.questions);
out.aggregated = {formId: a.formId, formStatus: a.formStatus, totalResponseCount: a.totalResponseCount,
  totalParticipantsCount: a.totalParticipantsCount, targetResponderCount: a.targetResponderCount, result: a.result};
process.stdout.write(JSON.stringify(out));
