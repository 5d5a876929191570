// Package image opens container images and root filesystems and gives a
// safe, read-only, squashed view of their files.
//
// A [Source] names where an image comes from: a registry reference, an OCI
// image layout directory, a `docker save` or OCI archive tarball, or a root
// filesystem directory. [Open] resolves it (picking a platform from a
// multi-architecture index) and builds an [FS]: the layers applied in order,
// with whiteouts, opaque directories and hard links, as a container runtime
// would see the root filesystem.
//
// Nothing is extracted to disk. Opening walks each layer's tar headers once
// and keeps an in-memory tree of entries; the contents of the files the
// caller wants ([Options.Want]) are kept while the layer streams by (small
// files in memory, larger ones spooled to a private temporary directory).
// Other files are read on demand by streaming their layer again.
//
// Symbolic links resolve inside the image root only: an absolute target is
// taken relative to the root and ".." stops at the root, as chroot would.
// Entries whose names escape the root, whiteouts of "." or "..", too many
// entries, files or layers larger than the [Limits] all end in a clear error
// ([ErrUnsafePath], [*LimitError]).
package image
