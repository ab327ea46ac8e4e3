// Package static embeds the dashboard's assets (vendored htmx, Pico CSS and uPlot, our CSS and
// scripts) and gives each a versioned URL, so browsers may cache them forever and still see
// changes.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
)

//go:embed app.css app.js theme.js charts.js vendor
var files embed.FS

// FS is the embedded asset tree.
func FS() fs.FS { return files }

// Assets maps asset names to versioned URLs.
type Assets struct {
	versions map[string]string
}

// NewAssets hashes every embedded file once, at start-up.
func NewAssets() (*Assets, error) {
	a := &Assets{versions: map[string]string{}}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.versions[path] = hex.EncodeToString(sum[:])[:12]
		return nil
	})
	return a, err
}

// Path is the URL of an asset, with its content hash as the version.
func (a *Assets) Path(name string) string {
	if v, ok := a.versions[name]; ok {
		return "/static/" + name + "?v=" + v
	}
	return "/static/" + name
}

// HTTPFS is the asset tree as an http.FileSystem, for the static file middleware.
func HTTPFS() http.FileSystem { return http.FS(files) }
