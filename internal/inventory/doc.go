// Package inventory lists the software packages inside an image or a root
// filesystem.
//
// The engine walks a read-only [fs.FS] (usually the squashed filesystem of an
// image from package image), asks every [Cataloger] which paths it needs with a
// cheap path check, and hands each cataloger only the files it asked for. A
// cataloger parses those files into [Package] values; it never opens files it
// did not ask for, except files named by the ones it parsed (such as a Python
// RECORD beside its METADATA).
//
// Catalogers are listed in order by [Catalogers]; there is no global registry.
// Parsing is deterministic: the same files give the same packages in the same
// order, which the conformance helper in the tests checks for every cataloger.
package inventory
