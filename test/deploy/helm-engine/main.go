// helm-engine: Helm 3's template engine (pkg/engine) rebuilt for WebAssembly, so the chart test can
// render deploy/helm/jobplane without a helm binary. It is Go's text/template with sprig v3.2.3
// (the function library Helm 3 uses, minus env/expandenv as in Helm) plus Helm's own functions:
// include, tpl, required, toYaml, fromYaml, toJson, fromJson, lookup (always empty: no cluster).
// Build: test/deploy/helm-engine/build.sh. Exposes globalThis.helmRender(filesJSON, contextJSON).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"syscall/js"
	"text/template"

	sprig "github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

const recursionMaxNums = 1000

// toYAML as Helm does it (sigs.k8s.io/yaml): JSON first (so json tags and key order apply), then YAML.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var obj interface{}
	if err := yaml.Unmarshal(j, &obj); err != nil {
		return ""
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(out), "\n")
}

func fromYAML(str string) map[string]interface{} {
	m := map[string]interface{}{}
	var raw interface{}
	if err := yaml.Unmarshal([]byte(str), &raw); err != nil {
		m["Error"] = err.Error()
		return m
	}
	j, err := json.Marshal(convert(raw))
	if err != nil {
		m["Error"] = err.Error()
		return m
	}
	if err := json.Unmarshal(j, &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// convert yaml.v2's map[interface{}]interface{} into JSON-friendly maps.
func convert(v interface{}) interface{} {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := map[string]interface{}{}
		for k, val := range t {
			m[fmt.Sprint(k)] = convert(val)
		}
		return m
	case []interface{}:
		for i := range t {
			t[i] = convert(t[i])
		}
	}
	return v
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(str string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toYaml":   toYAML,
		"fromYaml": fromYAML,
		"toJson":   toJSON,
		"fromJson": fromJSON,
		"include":  func(string, interface{}) string { return "not implemented" },
		"tpl":      func(string, interface{}) interface{} { return "not implemented" },
		"required": func(string, interface{}) (interface{}, error) { return "not implemented", nil },
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// render mirrors helm.sh/helm/v3/pkg/engine.Engine.render for a single chart without subcharts.
func render(files map[string]string, top map[string]interface{}, strict bool) (map[string]string, error) {
	t := template.New("gotpl")
	if strict {
		t.Option("missingkey=error")
	} else {
		t.Option("missingkey=zero")
	}
	includedNames := map[string]int{}
	fm := funcMap()
	fm["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if v, ok := includedNames[name]; ok {
			if v > recursionMaxNums {
				return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
			}
			includedNames[name]++
		} else {
			includedNames[name] = 1
		}
		err := t.ExecuteTemplate(&buf, name, data)
		includedNames[name]--
		return buf.String(), err
	}
	fm["tpl"] = func(tpl string, vals interface{}) (string, error) {
		c, err := t.Clone()
		if err != nil {
			return "", err
		}
		c, err = c.New("tpl").Parse(tpl)
		if err != nil {
			return "", err
		}
		var buf strings.Builder
		if err := c.Execute(&buf, vals); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	fm["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, fmt.Errorf("%s", warn)
		}
		if s, ok := val.(string); ok && s == "" {
			return val, fmt.Errorf("%s", warn)
		}
		return val, nil
	}
	t.Funcs(fm)

	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := t.New(name).Parse(files[name]); err != nil {
			return nil, fmt.Errorf("parse error in %q: %w", name, err)
		}
	}
	out := map[string]string{}
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		vals := map[string]interface{}{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": name, "BasePath": path.Dir(name)}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, vals); err != nil {
			return nil, fmt.Errorf("render error in %q: %w", name, err)
		}
		out[name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

func main() {
	js.Global().Set("helmRender", js.FuncOf(func(this js.Value, args []js.Value) interface{} {
		result := map[string]interface{}{}
		var files map[string]string
		var top map[string]interface{}
		if err := json.Unmarshal([]byte(args[0].String()), &files); err != nil {
			result["error"] = "files: " + err.Error()
			return toJSON(result)
		}
		if err := json.Unmarshal([]byte(args[1].String()), &top); err != nil {
			result["error"] = "context: " + err.Error()
			return toJSON(result)
		}
		manifests, err := render(files, top, false)
		if err != nil {
			result["error"] = err.Error()
		} else {
			result["manifests"] = manifests
		}
		return toJSON(result)
	}))
	select {}
}
