package wheel

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Scheme is pip's install scheme for one distribution (absolute paths).
type Scheme struct {
	Purelib, Platlib, Headers, Scripts, Data string
}

func (s Scheme) byKey(k string) (string, bool) {
	switch k {
	case "purelib":
		return s.Purelib, true
	case "platlib":
		return s.Platlib, true
	case "headers":
		return s.Headers, true
	case "scripts":
		return s.Scripts, true
	case "data":
		return s.Data, true
	}
	return "", false
}

// ScriptMaker is what pip's script maker and fix_script write.
type ScriptMaker struct {
	Shebang, GUIShebang, Template string
	Executable, Linesep           string // fix_script's "#!" + sys.executable + os.linesep
}

// Unpacked is one wheel written into a staging tree that mirrors the venv:
// the file for venv path P is at Stage/rel(Root, P).
type Unpacked struct {
	Project   string // canonical name
	Root      string // the venv
	Stage     string
	LibDir    string   // final purelib or platlib
	InfoDir   string   // NAME-VERSION.dist-info
	Files     []string // venv-relative paths written so far (slash-separated by OS)
	oldRecord [][]string
	installed map[string]string // wheel path -> RECORD path
	order     []string          // keys of installed in pip's order
	changed   map[string][]byte // RECORD path -> content of a rewritten script
	generated []RecordRow
	umask     os.FileMode
	seen      map[string]bool // venv-relative files written
	dirs      map[string]bool // staged directories made
}

// mkdir makes a staged directory once.
func (u *Unpacked) mkdir(dir string) error {
	if u.dirs[dir] {
		return nil
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if u.dirs == nil {
		u.dirs = map[string]bool{}
	}
	u.dirs[dir] = true
	return nil
}

// errorf makes an error about the wheel.
func wheelErr(wheel string, format string, args ...any) error {
	return fmt.Errorf("wheel %s: %s", filepath.Base(wheel), fmt.Sprintf(format, args...))
}

// Unpack installs the wheel at wheelPath into stage as pip's _install_wheel
// installs it into the venv at root (PEP 427): root files into purelib or
// platlib, NAME.data/KEY/ files into the scheme's KEY directory, "#!python"
// scripts rewritten, entry-point scripts, INSTALLER and REQUESTED
// generated. Each member is checked against the wheel's RECORD (hash and
// size); a member that would land outside its scheme directory or the
// venv, or a symlink, is an error. RECORD is written by Finish, after
// bytecode.
func Unpack(wheelPath, project string, root, stage string, scheme Scheme, sm ScriptMaker, umask os.FileMode) (*Unpacked, error) {
	zr, err := zip.OpenReader(wheelPath)
	if err != nil {
		return nil, wheelErr(wheelPath, "%v", err)
	}
	defer zr.Close()
	members := map[string]*zip.File{}
	infoDirs := map[string]bool{}
	for _, f := range zr.File {
		members[f.Name] = f
		top, _, _ := strings.Cut(f.Name, "/")
		if strings.HasSuffix(top, ".dist-info") && strings.Contains(f.Name, "/") {
			infoDirs[top] = true
		}
	}
	if len(infoDirs) != 1 {
		return nil, wheelErr(wheelPath, "%d .dist-info directories, want 1", len(infoDirs))
	}
	var info string
	for k := range infoDirs {
		info = k
	}
	if !strings.HasPrefix(NormalizeName(info), project) {
		return nil, wheelErr(wheelPath, ".dist-info directory %s does not start with %s", info, project)
	}
	read := func(name string) ([]byte, error) {
		f, ok := members[info+"/"+name]
		if !ok {
			return nil, os.ErrNotExist
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, 64<<20))
	}
	wheelMeta, err := read("WHEEL")
	if err != nil {
		return nil, wheelErr(wheelPath, "%s/WHEEL: %v", info, err)
	}
	meta := headers(wheelMeta)
	major, _, _ := strings.Cut(meta["wheel-version"], ".")
	if major != "1" {
		return nil, wheelErr(wheelPath, "unsupported Wheel-Version %q", meta["wheel-version"])
	}
	recordText, err := read("RECORD")
	if err != nil {
		return nil, wheelErr(wheelPath, "%s/RECORD: %v", info, err)
	}
	u := &Unpacked{Project: project, Root: root, Stage: stage, InfoDir: info,
		oldRecord: ParseRecord(string(recordText)), installed: map[string]string{},
		changed: map[string][]byte{}, umask: umask}
	u.LibDir = scheme.Platlib
	if strings.EqualFold(meta["root-is-purelib"], "true") {
		u.LibDir = scheme.Purelib
	}
	recorded := map[string][2]string{}
	for _, row := range u.oldRecord {
		if len(row) >= 3 {
			recorded[row[0]] = [2]string{row[1], row[2]}
		}
	}
	epText, _ := read("entry_points.txt")
	console, gui := ParseEntryPoints(string(epText))
	epNames := map[string]bool{}
	for _, ep := range append(append([]EntryPoint(nil), console...), gui...) {
		if pipOwnScripts.MatchString(ep.Name) {
			return nil, &Unsupported{Reason: fmt.Sprintf("entry point %q is one pip renames", ep.Name)}
		}
		epNames[ep.Name] = true
	}

	// pip's order: root files, other .data files, then .data/scripts files.
	var rootFiles, dataFiles, scriptFiles []*zip.File
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		top, _, _ := strings.Cut(f.Name, "/")
		switch {
		case !strings.HasSuffix(top, ".data"):
			rootFiles = append(rootFiles, f)
		case strings.HasPrefix(f.Name, top+"/scripts/"):
			scriptFiles = append(scriptFiles, f)
		default:
			dataFiles = append(dataFiles, f)
		}
	}
	dest := func(f *zip.File) (string, string, error) {
		name := f.Name
		if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
			return "", "", wheelErr(wheelPath, "member %q has an absolute path", name)
		}
		top, rest, _ := strings.Cut(path.Clean(name), "/")
		if !strings.HasSuffix(top, ".data") {
			d := filepath.Join(u.LibDir, filepath.Clean(name))
			return d, u.LibDir, nil
		}
		key, sub, ok := strings.Cut(rest, "/")
		if !ok {
			return "", "", wheelErr(wheelPath, "unexpected file %q: .data contents should be named <scheme key>/<path>", name)
		}
		base, ok := scheme.byKey(key)
		if !ok {
			return "", "", wheelErr(wheelPath, "unknown scheme key %q (for file %q)", key, name)
		}
		return filepath.Join(base, filepath.Clean(sub)), base, nil
	}
	for gi, group := range [][]*zip.File{rootFiles, dataFiles, scriptFiles} {
		isScripts := gi == 2
		for _, f := range group {
			d, base, err := dest(f)
			if err != nil {
				return nil, err
			}
			if !within(base, d) || !within(root, d) {
				return nil, wheelErr(wheelPath, "member %q would be installed outside the target directory %s", f.Name, base)
			}
			if f.Mode()&os.ModeSymlink != 0 || (f.ExternalAttrs>>16)&0o170000 == 0o120000 {
				return nil, wheelErr(wheelPath, "member %q is a symlink", f.Name)
			}
			if isScripts {
				bn := filepath.Base(d)
				match := bn
				switch l := strings.ToLower(bn); {
				case strings.HasSuffix(l, ".exe"), strings.HasSuffix(l, ".pya"):
					match = bn[:len(bn)-4]
				case strings.HasSuffix(l, "-script.py"):
					match = bn[:len(bn)-10]
				}
				if epNames[match] {
					continue // setuptools' wrapper for an entry point pip generates
				}
			}
			content, err := u.extract(wheelPath, f, d, recorded, isScripts)
			if err != nil {
				return nil, err
			}
			rp := u.recordPath(d)
			if _, seen := u.installed[f.Name]; !seen {
				u.order = append(u.order, f.Name)
			}
			u.installed[f.Name] = rp
			if isScripts && bytes.HasPrefix(content, []byte("#!python")) {
				rest := content
				if i := bytes.IndexByte(content, '\n'); i >= 0 {
					rest = content[i+1:]
				} else {
					rest = nil
				}
				fixed := append([]byte("#!"+sm.Executable+sm.Linesep), rest...)
				if err := os.WriteFile(u.staged(d), fixed, 0o666); err != nil {
					return nil, fmt.Errorf("wheel %s: %w", filepath.Base(wheelPath), err)
				}
				u.changed[rp] = fixed
			}
		}
	}
	// Entry points, as PipScriptMaker.make_multiple: console then gui.
	for _, ep := range append(append([]EntryPoint(nil), console...), gui...) {
		sb := sm.Shebang
		if ep.GUI {
			sb = sm.GUIShebang
		}
		text, err := ScriptText(ep, sb, sm.Template)
		if err != nil {
			return nil, wheelErr(wheelPath, "%v", err)
		}
		d := filepath.Join(scheme.Scripts, ep.Name)
		if !within(root, d) {
			return nil, wheelErr(wheelPath, "entry point %q would be installed outside the venv", ep.Name)
		}
		if err := u.write(d, text, 0o666&^umask|0o555); err != nil {
			return nil, err
		}
		u.generated = append(u.generated, RecordRow{u.recordPath(d), RecordHash(text), strconv.Itoa(len(text))})
	}
	infoPath := filepath.Join(u.LibDir, info)
	for _, g := range []struct {
		name    string
		content []byte
	}{{"INSTALLER", []byte("pys2i\n")}, {"REQUESTED", nil}} {
		d := filepath.Join(infoPath, g.name)
		if err := u.write(d, g.content, 0o666&^umask); err != nil {
			return nil, err
		}
		u.generated = append(u.generated, RecordRow{u.recordPath(d), RecordHash(g.content), strconv.Itoa(len(g.content))})
	}
	return u, nil
}

// Unsupported is a wheel this installer leaves to pip.
type Unsupported struct{ Reason string }

func (e *Unsupported) Error() string { return e.Reason }

func headers(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}

// within reports whether p is dir or below it (lexically, both clean).
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

func (u *Unpacked) rel(final string) string {
	r, _ := filepath.Rel(u.Root, final)
	return r
}

func (u *Unpacked) staged(final string) string { return filepath.Join(u.Stage, u.rel(final)) }

// recordPath is pip's _fs_to_record_path: relative to lib_dir, "/"-separated.
func (u *Unpacked) recordPath(final string) string {
	r, err := filepath.Rel(u.LibDir, final)
	if err != nil {
		r = final
	}
	return filepath.ToSlash(r)
}

func (u *Unpacked) note(final string) {
	r := u.rel(final)
	if u.seen == nil {
		u.seen = map[string]bool{}
	}
	if !u.seen[r] {
		u.seen[r] = true
		u.Files = append(u.Files, r)
	}
}

// write creates a generated file in the stage with mode.
func (u *Unpacked) write(final string, content []byte, mode os.FileMode) error {
	s := u.staged(final)
	if err := u.mkdir(filepath.Dir(s)); err != nil {
		return err
	}
	if u.seen[u.rel(final)] {
		os.Remove(s)
	}
	if err := os.WriteFile(s, content, 0o666); err != nil {
		return err
	}
	if err := os.Chmod(s, mode); err != nil {
		return err
	}
	u.note(final)
	return nil
}

// extract copies member f to the stage, checks it against the wheel's
// RECORD row (when the row has a hash), and gives it pip's mode: the
// default one, or plus executable when the member is. Scripts' content is
// returned (for fix_script).
func (u *Unpacked) extract(wheelPath string, f *zip.File, final string, recorded map[string][2]string, keep bool) ([]byte, error) {
	s := u.staged(final)
	if err := u.mkdir(filepath.Dir(s)); err != nil {
		return nil, fmt.Errorf("wheel %s: %w", filepath.Base(wheelPath), err)
	}
	if u.seen[u.rel(final)] {
		os.Remove(s)
	}
	u.note(final)
	rc, err := f.Open()
	if err != nil {
		return nil, wheelErr(wheelPath, "%s: %v", f.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(s, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
	if err != nil {
		return nil, fmt.Errorf("wheel %s: %w", filepath.Base(wheelPath), err)
	}
	h := sha256.New()
	var buf bytes.Buffer
	w := io.MultiWriter(out, h)
	if keep {
		w = io.MultiWriter(out, h, &buf)
	}
	n, err := io.Copy(w, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("wheel %s: %s: %w", filepath.Base(wheelPath), f.Name, err)
	}
	if row, ok := recorded[f.Name]; ok && row[0] != "" {
		algo, digest, _ := strings.Cut(row[0], "=")
		if algo == "sha256" {
			if got := base64.RawURLEncoding.EncodeToString(h.Sum(nil)); got != strings.TrimRight(digest, "=") {
				return nil, wheelErr(wheelPath, "RECORD lies about %s: sha256=%s, the file has sha256=%s", f.Name, digest, got)
			}
		}
		if row[1] != "" && row[1] != strconv.FormatInt(n, 10) {
			return nil, wheelErr(wheelPath, "RECORD lies about %s: size %s, the file has %d bytes", f.Name, row[1], n)
		}
	}
	mode := uint32(f.ExternalAttrs >> 16)
	if mode != 0 && mode&0o170000 == 0o100000 && mode&0o111 != 0 {
		if err := os.Chmod(s, 0o777&^u.umask|0o111); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// Finish writes RECORD (pip's rows: the wheel's, mapped; rewritten
// scripts rehashed; generated files; pyc files without hash) with pip's
// generated-file mode. pycs are the final paths of compiled files.
func (u *Unpacked) Finish(pycs []string) error {
	order := append([]string(nil), u.order...)
	installed := make(map[string]string, len(u.installed)+len(pycs))
	for k, v := range u.installed {
		installed[k] = v
	}
	for _, p := range pycs {
		k := filepath.ToSlash(p)
		installed[k] = u.recordPath(p)
		order = append(order, k)
	}
	rows := recordRows(u.oldRecord, installed, order, u.changed, u.generated)
	recordFinal := filepath.Join(u.LibDir, u.InfoDir, "RECORD")
	return u.write(recordFinal, RenderRecord(rows), 0o666&^u.umask)
}

// PySources are the final paths pip compiles: the installed files ending
// in .py, sorted, de-duplicated.
func (u *Unpacked) PySources() []string {
	set := map[string]bool{}
	for _, rp := range u.installed {
		full := filepath.Join(u.LibDir, filepath.FromSlash(rp))
		if strings.HasSuffix(full, ".py") {
			set[full] = true
		}
	}
	// pip sorts the RECORD paths; the order does not change the result.
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
