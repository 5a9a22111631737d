package actionpkg

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Limits bound what a package may hold, so that importing one costs
// bounded memory and time.
type Limits struct {
	MaxFiles      int
	MaxFileBytes  int64
	MaxTotalBytes int64
}

// DefaultLimits suit cards: small web apps.
var DefaultLimits = Limits{MaxFiles: 500, MaxFileBytes: 5 << 20, MaxTotalBytes: 20 << 20}

// Package is a validated action package: its manifest and its files by
// clean relative path.
type Package struct {
	Manifest *Manifest
	Files    map[string][]byte
	// Warnings name the manifest's fields that Kaizala does not define:
	// kept, not used.
	Warnings []Problem
	// Skipped lists the files a zip tool or desktop adds (__MACOSX/,
	// .DS_Store, ._* AppleDouble files, Thumbs.db), left out of the package.
	Skipped []string
	// Folder is the one folder the package's files were in ("" when they
	// were at the top): a zip of a folder, as zip tools make it.
	Folder string
}

// isJunk reports whether a clean path is a file an archiver or a desktop
// adds beside the package's own: macOS resource forks and folder settings,
// Windows thumbnails.
func isJunk(clean string) bool {
	base := path.Base(clean)
	return clean == "__MACOSX" || strings.HasPrefix(clean, "__MACOSX/") ||
		base == ".DS_Store" || base == "Thumbs.db" || strings.HasPrefix(base, "._")
}

// Load reads a package from a folder or a .zip file.
func Load(p string, lim Limits) (*Package, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, invalid("package: %v", err)
	}
	if st.IsDir() {
		return ReadFS(os.DirFS(p), lim)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, invalid("package: %v", err)
	}
	defer f.Close()
	return ReadZip(f, st.Size(), lim)
}

// collector gathers files while enforcing the limits.
type collector struct {
	lim     Limits
	files   map[string][]byte
	skipped []string
	total   int64
}

func (c *collector) add(name string, r io.Reader) error {
	clean, err := CleanPath(name)
	if err != nil {
		return invalid("package: file %v", err)
	}
	if isJunk(clean) { // checked as a path first: a junk name is no way out
		c.skipped = append(c.skipped, clean)
		return nil
	}
	if _, dup := c.files[clean]; dup {
		return invalid("package: %s appears twice", clean)
	}
	if len(c.files) >= c.lim.MaxFiles {
		return invalid("package: more than %d files", c.lim.MaxFiles)
	}
	// Read one byte past the limit rather than trust a declared size: a zip
	// header can lie.
	b, err := io.ReadAll(io.LimitReader(r, c.lim.MaxFileBytes+1))
	if err != nil {
		return invalid("package: read %s: %v", clean, err)
	}
	if int64(len(b)) > c.lim.MaxFileBytes {
		return invalid("package: %s is larger than %d bytes", clean, c.lim.MaxFileBytes)
	}
	if c.total += int64(len(b)); c.total > c.lim.MaxTotalBytes {
		return invalid("package: files add up to more than %d bytes", c.lim.MaxTotalBytes)
	}
	c.files[clean] = b
	return nil
}

// ReadZip reads a zipped package. Entries that are links, or whose names
// are absolute, hold "..", backslashes or NUL, are refused, as are packages
// over the limits (however small their headers say they are).
func ReadZip(r io.ReaderAt, size int64, lim Limits) (*Package, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, invalid("package: not a zip file: %v", err)
	}
	if len(zr.File) > lim.MaxFiles*2 { // directories count too
		return nil, invalid("package: more than %d files", lim.MaxFiles)
	}
	c := &collector{lim: lim, files: map[string][]byte{}}
	for _, f := range zr.File {
		mode := f.Mode()
		switch {
		case mode.IsDir():
			clean, err := CleanPath(strings.TrimSuffix(f.Name, "/"))
			if err != nil {
				return nil, invalid("package: folder %v", err)
			}
			if isJunk(clean) {
				c.skipped = append(c.skipped, clean+"/")
			}
			continue
		case mode&fs.ModeSymlink != 0:
			return nil, invalid("package: %s is a symbolic link; links are not allowed", f.Name)
		case !mode.IsRegular():
			return nil, invalid("package: %s is not a regular file", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, invalid("package: %s: %v", f.Name, err)
		}
		err = c.add(f.Name, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	return finish(c)
}

// ReadFS reads a package from a folder. Links are refused, so that a
// package cannot pull in a file from elsewhere on the machine.
func ReadFS(fsys fs.FS, lim Limits) (*Package, error) {
	c := &collector{lim: lim, files: map[string][]byte{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return invalid("package: %v", err)
		}
		switch {
		case d.IsDir() && p != "." && isJunk(p):
			c.skipped = append(c.skipped, p+"/")
			return fs.SkipDir
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			return invalid("package: %s is a symbolic link; links are not allowed", p)
		case !d.Type().IsRegular():
			return invalid("package: %s is not a regular file", p)
		}
		f, err := fsys.Open(p)
		if err != nil {
			return invalid("package: %v", err)
		}
		defer f.Close()
		return c.add(p, f)
	})
	if err != nil {
		return nil, err
	}
	return finish(c)
}

// finish finds the manifest (at the top, or in the one folder a zip of a
// folder has), strips that folder, and validates.
func finish(c *collector) (*Package, error) {
	files, prefix := c.files, ""
	if _, ok := files[ManifestFile]; !ok {
		for name := range files {
			if path.Base(name) == ManifestFile && strings.Count(name, "/") == 1 {
				prefix = path.Dir(name) + "/"
			}
		}
		if prefix == "" {
			return nil, invalid("package: no %s at the top of the package", ManifestFile)
		}
		inner := make(map[string][]byte, len(files))
		for name, b := range files {
			if !strings.HasPrefix(name, prefix) {
				return nil, invalid("package: %s is outside the package folder %s", name, prefix)
			}
			inner[strings.TrimPrefix(name, prefix)] = b
		}
		files = inner
	}
	m, err := ParseManifest(files[ManifestFile])
	if err != nil {
		return nil, err
	}
	present := make(map[string]bool, len(files))
	for name := range files {
		present[name] = true
	}
	warnings, err := m.Validate(present)
	if err != nil {
		return nil, err
	}
	sort.Strings(c.skipped)
	return &Package{Manifest: m, Files: files, Warnings: warnings, Skipped: c.skipped, Folder: strings.TrimSuffix(prefix, "/")}, nil
}

// Zip writes p as a zip archive, for tests and for exporting a package.
func (p *Package) Zip() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range p.Files {
		w, err := zw.Create(name)
		if err != nil {
			return nil, fmt.Errorf("actionpkg: zip %s: %w", name, err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("actionpkg: zip: %w", err)
	}
	return buf.Bytes(), nil
}
