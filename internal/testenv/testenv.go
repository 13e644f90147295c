// Package testenv finds what tests need outside the project: the
// third-party sample logs in ../shared/samples (never copied into the
// project), located from the module root or the CONVERT_SAMPLES variable.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: go.mod not found")
		}
		dir = parent
	}
}

// SamplesDir returns the samples folder of a kind ("vpcflow", "cloudtrail",
// "s3access"), or skips the test when the samples are not present.
// CONVERT_REQUIRE_SAMPLES=1 turns the skip into a failure (CI sets it).
func SamplesDir(t testing.TB, kind string) string {
	t.Helper()
	root := os.Getenv("CONVERT_SAMPLES")
	if root == "" {
		root = filepath.Join(RepoRoot(t), "..", "shared", "samples")
	}
	dir := filepath.Join(root, kind)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CONVERT_REQUIRE_SAMPLES") == "1" {
			t.Fatalf("samples required but missing: %v", err)
		}
		t.Skipf("no samples at %s", dir)
	}
	return dir
}
