package issuer

import (
	"context"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
)

// ImportPackage stores a validated action package: it creates the package
// (named by the manifest's displayName) if it is new, or keeps its state
// (disabled, revocations) and takes the new name if it exists, and replaces
// the manifest and files.
func (s *Service) ImportPackage(ctx context.Context, p *actionpkg.Package) (*cardgate.ActionPackage, error) {
	m := p.Manifest
	ap := &cardgate.ActionPackage{ID: m.ID, DisplayName: m.DisplayName}
	if err := s.CreatePackage(ctx, ap); cardgate.ErrorCode(err) == cardgate.ECONFLICT {
		if ap, err = s.store.Package(ctx, m.ID); err != nil {
			return nil, storeError("read package", err)
		}
	} else if err != nil {
		return nil, err
	}
	if err := s.store.PutPackageContent(ctx, m.ID, p.Files[actionpkg.ManifestFile], p.Files, s.now().UTC()); err != nil {
		return nil, storeError("store package files", err)
	}
	s.log.Info("action package imported", "package", m.ID, "version", m.Version, "files", len(p.Files))
	return ap, nil
}
