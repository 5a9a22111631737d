package issuer

import (
	"context"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
)

// Imported says what an import did: the package, and what it replaced.
type Imported struct {
	Package *cardgate.ActionPackage `json:"package"`
	Version string                  `json:"version"`
	Files   int                     `json:"files"`
	// Replaced is the package's earlier content, nil when it had none.
	Replaced *Replaced `json:"replaced,omitempty"`
}

// Replaced is the content an import replaced.
type Replaced struct {
	DisplayName string `json:"displayName"`
	Version     string `json:"version"`
	Files       int    `json:"files"`
}

// Import stores a validated action package. A new ID creates the package
// (named by the manifest's displayName); an ID registered without content
// (`packages add`) gets its files. An ID that already holds an imported
// package is ECONFLICT unless replace is set: then its record (name, disabled,
// revocations) is kept and the manifest and files are replaced; the host
// shows the manifest's displayName.
func (s *Service) Import(ctx context.Context, p *actionpkg.Package, replace bool) (*Imported, error) {
	m := p.Manifest
	ap := &cardgate.ActionPackage{ID: m.ID, DisplayName: m.DisplayName}
	out := &Imported{Package: ap, Version: m.Version, Files: len(p.Files)}
	err := s.CreatePackage(ctx, ap)
	if cardgate.ErrorCode(err) == cardgate.ECONFLICT {
		if ap, err = s.store.Package(ctx, m.ID); err != nil {
			return nil, storeError("read package", err)
		}
		out.Package = ap
		if out.Replaced, err = s.content(ctx, ap); err != nil {
			return nil, err
		}
		if out.Replaced != nil && !replace {
			return nil, cardgate.Errorf(cardgate.ECONFLICT, "package %s is already imported (%s, version %s, %d files); import again with --replace to replace it",
				m.ID, out.Replaced.DisplayName, out.Replaced.Version, out.Replaced.Files)
		}
	} else if err != nil {
		return nil, err
	}
	if err := s.store.PutPackageContent(ctx, m.ID, m.Raw, p.Files, s.now().UTC()); err != nil {
		return nil, storeError("store package files", err)
	}
	args := []any{"package", m.ID, "version", m.Version, "files", len(p.Files)}
	if r := out.Replaced; r != nil {
		args = append(args, "replaced_version", r.Version, "replaced_files", r.Files)
	}
	s.log.Info("action package imported", args...)
	return out, nil
}

// content describes what a package holds now, nil if it was never imported.
func (s *Service) content(ctx context.Context, ap *cardgate.ActionPackage) (*Replaced, error) {
	raw, err := s.store.PackageManifest(ctx, ap.ID)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, storeError("read manifest", err)
	}
	r := &Replaced{DisplayName: ap.DisplayName}
	if old, err := actionpkg.ParseManifest(raw); err == nil {
		r.Version = old.Version
	}
	if r.Files, err = s.store.PackageFileCount(ctx, ap.ID); err != nil {
		return nil, storeError("count package files", err)
	}
	return r, nil
}

// ImportPackage imports p, replacing what its ID holds: the demo re-imports
// its cards on every start.
func (s *Service) ImportPackage(ctx context.Context, p *actionpkg.Package) (*cardgate.ActionPackage, error) {
	imp, err := s.Import(ctx, p, true)
	if err != nil {
		return nil, err
	}
	return imp.Package, nil
}
