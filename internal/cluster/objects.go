package cluster

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Object is one object of a Snapshot as JSON, with what identifies it.
type Object struct {
	// Kind is the object's group, version and kind.
	Kind schema.GroupVersionKind
	// Resource is its plural resource name ("pods"), as far as known.
	Resource string
	// Namespace and Name identify it.
	Namespace, Name string
	// Raw is the object as JSON, apiVersion and kind included.
	Raw []byte
	// Source is where it was loaded from, if recorded.
	Source Source
}

// Objects returns every object of the snapshot as JSON, typed kinds in
// the order of AllKinds and then Other, each kind in load order. Errors:
// an object that does not marshal.
func (s *Snapshot) Objects() ([]Object, error) {
	var out []Object
	v := reflect.ValueOf(s).Elem()
	for _, k := range kinds() {
		field := v.FieldByName(fieldOf(k))
		if !field.IsValid() {
			return nil, fmt.Errorf("snapshot has no field for %s", k.kind)
		}
		for i := range field.Len() {
			obj := field.Index(i).Addr().Interface()
			raw, err := json.Marshal(obj)
			if err != nil {
				return nil, fmt.Errorf("marshal %s: %w", k.kind, err)
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Metadata   struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			_ = json.Unmarshal(raw, &head)
			gv, _ := schema.ParseGroupVersion(head.APIVersion)
			if head.APIVersion == "" {
				// Objects read from the API come without their type.
				gv = schema.GroupVersion{Group: k.group, Version: k.versions[0]}
				raw, err = withType(raw, gv.String(), string(k.kind))
				if err != nil {
					return nil, err
				}
			}
			src, _ := s.Source(k.kind, head.Metadata.Namespace, head.Metadata.Name)
			out = append(out, Object{Kind: gv.WithKind(string(k.kind)), Resource: k.resource,
				Namespace: head.Metadata.Namespace, Name: head.Metadata.Name, Raw: raw, Source: src})
		}
	}
	for _, u := range s.Other {
		raw, err := u.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("marshal %s %s: %w", u.GetKind(), u.GetName(), err)
		}
		gvk := u.GroupVersionKind()
		src, _ := s.Source(Kind(gvk.Kind), u.GetNamespace(), u.GetName())
		out = append(out, Object{Kind: gvk, Resource: strings.ToLower(gvk.Kind) + "s", Namespace: u.GetNamespace(), Name: u.GetName(), Raw: raw, Source: src})
	}
	return out, nil
}

// fieldOf is the Snapshot field holding a kind: its plural kind name.
func fieldOf(k kindInfo) string {
	switch k.kind {
	case KindIngress:
		return "Ingresses"
	case KindNetworkPolicy:
		return "NetworkPolicies"
	}
	return string(k.kind) + "s"
}

// withType sets apiVersion and kind in the JSON object raw.
func withType(raw []byte, apiVersion, kind string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["apiVersion"], m["kind"] = apiVersion, kind
	return json.Marshal(m)
}
