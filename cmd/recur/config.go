package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/recur-ml/recur/data/input"
)

// configLimits bound a --config file: a config is a page of flags, so
// 1 MiB in all (which bounds its lines too) is plenty and keeps a stray
// file (a dataset given as --config) from being parsed as YAML.
var configLimits = input.Limits{MaxLineBytes: -1, MaxFileBytes: 1 << 20}

// applyConfig reads the YAML file at path, whose keys are flag names of
// fs, and sets every flag that the command line did not set explicitly
// (flags override the file). Errors name the file, line and key, and
// quote at most about 100 bytes of a key or value.
func applyConfig(fs *flag.FlagSet, path string) error {
	b, err := readConfig(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %s", path, input.Cut(err.Error()))
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: the config must be a mapping of flag names to values", path, root.Line)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		name := strings.ReplaceAll(k.Value, "_", "-")
		f := fs.Lookup(name)
		if f == nil || name == "config" {
			return fmt.Errorf("%s:%d: unknown key %s (keys are the flags of \"recur %s\")", path, k.Line, input.Quote(k.Value), fs.Name())
		}
		var val string
		switch v.Kind {
		case yaml.ScalarNode:
			val = v.Value
		case yaml.SequenceNode:
			var items []string
			for _, it := range v.Content {
				if it.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s:%d: key %s: list items must be plain values", path, it.Line, input.Quote(k.Value))
				}
				items = append(items, it.Value)
			}
			val = strings.Join(items, ",")
		default:
			return fmt.Errorf("%s:%d: key %s: want a value or a list", path, v.Line, input.Quote(k.Value))
		}
		if set[name] {
			continue
		}
		if err := fs.Set(name, val); err != nil {
			return fmt.Errorf("%s:%d: key %s: %s", path, v.Line, input.Quote(k.Value), input.Cut(err.Error()))
		}
	}
	return nil
}

// readConfig reads the config file at path within configLimits.
func readConfig(path string) ([]byte, error) {
	f, err := input.Open(path, path, configLimits)
	if errors.Is(err, input.ErrFileTooLarge) {
		return nil, fmt.Errorf("--config %s: larger than %s; a config file holds flags, not data", path, input.Size(configLimits.MaxFileBytes))
	}
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if errors.Is(err, input.ErrFileTooLarge) {
		return nil, fmt.Errorf("--config %s: more than %s; a config file holds flags, not data", path, input.Size(configLimits.MaxFileBytes))
	}
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	return b, nil
}
