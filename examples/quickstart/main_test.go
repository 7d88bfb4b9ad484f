package main

import "testing"

// TestQuickstart runs the quickstart as it is (under a second), so that
// the README's ten lines keep working.
func TestQuickstart(t *testing.T) { main() }
