package pyindex

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// coreLibs are never bundled: the manylinux allow-list (glibc, libgcc_s,
// libstdc++) plus libpython, all present in any Debian bookworm rootfs.
var coreLibs = map[string]bool{
	"libc.so.6":              true,
	"libm.so.6":              true,
	"libdl.so.2":             true,
	"librt.so.1":             true,
	"libpthread.so.0":        true,
	"libutil.so.1":           true,
	"libresolv.so.2":         true,
	"libnsl.so.1":            true,
	"libanl.so.1":            true,
	"libcrypt.so.1":          true,
	"ld-linux-x86-64.so.2":   true,
	"libgcc_s.so.1":          true,
	"libstdc++.so.6":         true,
	"libpython3.11.so.1.0":   true,
	"libpython3.11d.so.1.0":  true,
	"linux-vdso.so.1":        true,
	"libthread_db.so.1":      true,
	"libmvec.so.1":           true,
	"libBrokenLocale.so.1":   true,
	"libnss_files.so.2":      true,
	"libnss_dns.so.2":        true,
	"libc_malloc_debug.so.0": true,
}

// softLibs are allowed (present in a minimal Debian rootfs) unless a bundle
// deb provides them, in which case they are bundled.
var softLibs = map[string]bool{
	"libz.so.1": true,
}

func isELF(b []byte) bool { return bytes.HasPrefix(b, []byte("\x7fELF")) }

// elfDeps returns the DT_NEEDED entries and DT_SONAME of an ELF file.
func elfDeps(b []byte) (needed []string, soname string, err error) {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	needed, err = f.DynString(elf.DT_NEEDED)
	if err != nil {
		return nil, "", err
	}
	sn, err := f.DynString(elf.DT_SONAME)
	if err != nil {
		return nil, "", err
	}
	if len(sn) > 0 {
		soname = sn[0]
	}
	return needed, soname, nil
}

type bundleLib struct {
	soname string
	from   string // deb name and path, for logs
	data   []byte
	needed []string
}

// bundleIndex indexes the ELF shared libraries of the bundle debs by
// SONAME (file name if none). Symlinks (libblas.so.3 -> libblas.so.3.11.0)
// need no following: the SONAME is in the file itself.
func bundleIndex(debs []*debFiles) (map[string]*bundleLib, error) {
	idx := map[string]*bundleLib{}
	for _, d := range debs {
		paths := make([]string, 0, len(d.entries))
		for p, e := range d.entries {
			if e.typ == tar.TypeReg && isELF(e.data) && strings.Contains(path.Base(p), ".so") {
				paths = append(paths, p)
			}
		}
		sort.Strings(paths)
		for _, p := range paths {
			needed, soname, err := elfDeps(d.entries[p].data)
			if err != nil {
				return nil, fmt.Errorf("%s: /%s: %w", d.name, p, err)
			}
			if soname == "" {
				soname = path.Base(p)
			}
			if _, dup := idx[soname]; dup {
				continue
			}
			idx[soname] = &bundleLib{soname: soname, from: d.name + ":/" + p, data: d.entries[p].data, needed: needed}
		}
	}
	return idx, nil
}

// bundleLibs does what auditwheel repair does for the ELF files of a wheel:
// every needed library that is neither in the wheel nor allowed is taken
// from the bundle (recursively) into libsDir, the wheel's ELF files that
// need one get RPATH $ORIGIN/<relative path to libsDir> and the bundled ones
// $ORIGIN. It returns the new file list and the bundled sonames.
func (b *builder) bundleLibs(ctx context.Context, files []File, libsDir string, idx map[string]*bundleLib) ([]File, []string, error) {
	inWheel := map[string]bool{}
	type elfInfo struct {
		i      int
		needed []string
	}
	var elfs []elfInfo
	for i, f := range files {
		if !isELF(f.Data) {
			continue
		}
		needed, soname, err := elfDeps(f.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		inWheel[path.Base(f.Name)] = true
		if soname != "" {
			inWheel[soname] = true
		}
		elfs = append(elfs, elfInfo{i, needed})
	}
	bundled := map[string]bool{}
	var queue []string
	// need classifies one DT_NEEDED entry: true if it must come from the bundle.
	need := func(lib, by string) (bool, error) {
		if coreLibs[lib] || inWheel[lib] {
			return false, nil
		}
		if _, ok := idx[lib]; ok {
			if !bundled[lib] {
				bundled[lib] = true
				queue = append(queue, lib)
			}
			return true, nil
		}
		if softLibs[lib] {
			return false, nil
		}
		return false, fmt.Errorf("needed library %s (by %s) not found in bundle", lib, by)
	}
	var patch []int
	for _, e := range elfs {
		fromBundle := false
		for _, lib := range e.needed {
			n, err := need(lib, files[e.i].Name)
			if err != nil {
				return nil, nil, err
			}
			fromBundle = fromBundle || n
		}
		if fromBundle {
			patch = append(patch, e.i)
		}
	}
	for len(queue) > 0 {
		lib := idx[queue[0]]
		queue = queue[1:]
		for _, n := range lib.needed {
			if _, err := need(n, lib.from); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(bundled) == 0 {
		return files, nil, nil
	}
	out := append([]File(nil), files...)
	for _, i := range patch {
		dir := path.Dir(out[i].Name)
		rel, err := filepath.Rel("/"+dir, "/"+libsDir)
		if err != nil {
			return nil, nil, err
		}
		data, err := b.setRpath(ctx, out[i].Data, "$ORIGIN/"+filepath.ToSlash(rel))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", out[i].Name, err)
		}
		out[i].Data = data
	}
	names := make([]string, 0, len(bundled))
	for n := range bundled {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := b.setRpath(ctx, idx[n].data, "$ORIGIN")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", idx[n].from, err)
		}
		out = append(out, File{Name: libsDir + "/" + n, Data: data, Exec: true})
	}
	return out, names, nil
}

// setRpath runs patchelf --force-rpath --set-rpath on a copy of data, as
// auditwheel does (DT_RPATH, unlike DT_RUNPATH, also serves the libraries'
// own dependencies and is not overridden by LD_LIBRARY_PATH).
func (b *builder) setRpath(ctx context.Context, data []byte, rpath string) ([]byte, error) {
	pe, err := b.patchelfPath(ctx)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(b.tmp, "patchelf-*.so")
	if err != nil {
		return nil, err
	}
	name := f.Name()
	defer os.Remove(name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, pe, "--force-rpath", "--set-rpath", rpath, name)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("patchelf --set-rpath %s: %v: %s", rpath, err, strings.TrimSpace(string(out)))
	}
	return os.ReadFile(name)
}

// patchelfPath returns patchelf from PATH or, if missing, extracts it from
// the mirror's patchelf deb into WorkDir/bin.
func (b *builder) patchelfPath(ctx context.Context) (string, error) {
	b.patchelfOnce.Do(func() {
		if p, err := exec.LookPath("patchelf"); err == nil {
			b.patchelf = p
			return
		}
		if b.apt == nil {
			b.patchelfErr = fmt.Errorf("patchelf not found in PATH (apt-get install patchelf)")
			return
		}
		b.logf("patchelf not in PATH: taking it from the mirror's patchelf deb")
		paths, err := b.apt.download(ctx, b.debDir, []string{"patchelf"})
		if err != nil {
			b.patchelfErr = err
			return
		}
		d, err := readDebFiles("patchelf", paths["patchelf"], func(p string) bool { return p == "usr/bin/patchelf" })
		if err != nil {
			b.patchelfErr = fmt.Errorf("patchelf deb: %w", err)
			return
		}
		e, ok := d.entries["usr/bin/patchelf"]
		if !ok || e.data == nil {
			b.patchelfErr = fmt.Errorf("patchelf deb has no usr/bin/patchelf")
			return
		}
		dst := filepath.Join(b.workDir, "bin", "patchelf")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			b.patchelfErr = err
			return
		}
		if err := os.WriteFile(dst, e.data, 0o755); err != nil {
			b.patchelfErr = err
			return
		}
		b.patchelf = dst
	})
	return b.patchelf, b.patchelfErr
}
