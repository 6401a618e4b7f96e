package source

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pys2i/pys2i/internal/exitcode"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		src  string
		want Kind
	}{
		{"/srv/app", Local},
		{"./app", Local},
		{"app", Local},
		{"../a:b", Local},
		{"/a:b", Local},
		{"https://github.com/org/app.git", Remote},
		{"file:///srv/repo", Remote},
		{"git@github.com:org/app.git", Remote},
		{"github.com:org/app.git", Remote},
	}
	for _, tt := range tests {
		if got := Classify(tt.src); got != tt.want {
			t.Errorf("Classify(%q) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestCleanContextDir(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"", "", false},
		{".", "", false},
		{"app", "app", false},
		{"app/", "app", false},
		{"./a/b/../c", "a/c", false},
		{"/app", "app", false}, // joined to the source, as s2i does
		{"..", "", true},
		{"../other", "", true},
		{"a/../../b", "", true},
	}
	for _, tt := range tests {
		got, err := CleanContextDir(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("CleanContextDir(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// write creates files under root: name -> content; a name ending in "/" is a
// directory, content "->X" makes a symlink to X.
func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if strings.HasPrefix(content, "->") {
			err = os.Symlink(strings.TrimPrefix(content, "->"), p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// tree lists dir as rel -> content, "->target" for links, "/" for dirs.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			got[rel] = "->" + l
		case fi.IsDir():
			got[rel+"/"] = ""
		default:
			b, _ := os.ReadFile(p)
			got[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func same(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return strings.Join(k, " ")
}

func TestPrepareLocal(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	write(t, outside, map[string]string{"secret": "s3cret", "dir/inner": "x"})
	src := filepath.Join(base, "src")
	write(t, src, map[string]string{
		"app.py":              "print(1)",
		".s2i/environment":    "A=1",
		".git/HEAD":           "ref: refs/heads/main",
		"sub/.git":            "gitdir: x",
		"sub/mod.py":          "m",
		"web/index.html":      "hi",
		"empty/":              "",
		"link-abs":            "->" + filepath.Join(outside, "secret"),
		"link-rel":            "->../outside/secret",
		"link-dir":            "->" + filepath.Join(outside, "dir"),
		"link-in":             "->app.py",
		"web/link-up":         "->../app.py",
		"dangling":            "->nowhere",
		"notes.gitignore.txt": "kept: .git is not a path component here",
	})
	if err := syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	def := regexp.MustCompile(DefaultExclude)
	tests := []struct {
		name    string
		opt     Options
		want    []string // expected entries (keys of tree)
		skipped []string
		wantErr string
	}{
		{
			name: "default exclude",
			opt:  Options{Source: src, Exclude: def},
			want: []string{".s2i/", ".s2i/environment", "app.py", "dangling", "empty/", "link-abs", "link-dir",
				"link-in", "link-rel", "notes.gitignore.txt", "sub/", "sub/mod.py", "web/", "web/index.html", "web/link-up"},
			skipped: []string{"fifo"},
		},
		{
			name: "exclude nothing",
			opt:  Options{Source: src},
			want: []string{".git/", ".git/HEAD", ".s2i/", ".s2i/environment", "app.py", "dangling", "empty/", "link-abs", "link-dir",
				"link-in", "link-rel", "notes.gitignore.txt", "sub/", "sub/.git", "sub/mod.py", "web/", "web/index.html", "web/link-up"},
			skipped: []string{"fifo"},
		},
		{
			name:    "custom exclude drops a whole directory",
			opt:     Options{Source: src, Exclude: regexp.MustCompile(`^(web|\.git|sub)$|^link-`)},
			want:    []string{".s2i/", ".s2i/environment", "app.py", "dangling", "empty/", "notes.gitignore.txt"},
			skipped: []string{"fifo"},
		},
		{
			name: "context dir",
			opt:  Options{Source: src, ContextDir: "web", Exclude: def},
			want: []string{"index.html", "link-up"},
		},
		{name: "context dir escapes", opt: Options{Source: src, ContextDir: "../outside"}, wantErr: "leaves the source"},
		{name: "context dir missing", opt: Options{Source: src, ContextDir: "nope"}, wantErr: "does not exist in the source"},
		{name: "context dir is a symlink", opt: Options{Source: src, ContextDir: "link-dir"}, wantErr: "is a symlink"},
		{name: "context dir is a file", opt: Options{Source: src, ContextDir: "app.py"}, wantErr: "not a directory"},
		{name: "missing source", opt: Options{Source: filepath.Join(base, "nope")}, wantErr: "does not exist"},
		{name: "source is a file", opt: Options{Source: filepath.Join(src, "app.py")}, wantErr: "not a directory"},
		{name: "ref without git", opt: Options{Source: outside, Ref: "main"}, wantErr: "not a git repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "upload", "src")
			info, err := Prepare(context.Background(), tt.opt, dst)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tree(t, dst)
			if k := keys(got); k != strings.Join(tt.want, " ") {
				t.Errorf("copied:\n %s\nwant:\n %s", k, strings.Join(tt.want, " "))
			}
			var skipped []string
			for _, s := range info.Skipped {
				skipped = append(skipped, s.Path)
			}
			if strings.Join(skipped, " ") != strings.Join(tt.skipped, " ") {
				t.Errorf("skipped = %v, want %v", info.Skipped, tt.skipped)
			}
			// Symlinks stay symlinks with their targets; nothing of outside/ is copied.
			for name, content := range got {
				if strings.Contains(content, "s3cret") || content == "x" {
					t.Errorf("%s has content from outside the source", name)
				}
			}
			if v, ok := got["link-abs"]; ok && v != "->"+filepath.Join(outside, "secret") {
				t.Errorf("link-abs = %q", v)
			}
			if v, ok := got["link-rel"]; ok && v != "->../outside/secret" {
				t.Errorf("link-rel = %q", v)
			}
			if info.Location != src || info.Commit != "" || info.Ref != "" {
				t.Errorf("info = %+v, want only the location %s", info, src)
			}
		})
	}
}

func TestPrepareModesAndOwner(t *testing.T) {
	src := t.TempDir()
	write(t, src, map[string]string{"bin/run": "#!/bin/sh", "data": "d", "ro/f": "f"})
	must(t, os.Chmod(filepath.Join(src, "bin/run"), 0o755|os.ModeSetuid))
	must(t, os.Chmod(filepath.Join(src, "data"), 0o640))
	must(t, os.Chmod(filepath.Join(src, "ro"), 0o555))
	dst := filepath.Join(t.TempDir(), "src")
	if _, err := Prepare(context.Background(), Options{Source: src, Owner: &Owner{UID: 1001, GID: 0}}, dst); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{"bin/run": 0o755, "data": 0o640, "ro": os.ModeDir | 0o555, "ro/f": 0o644} {
		fi, err := os.Lstat(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1001 || st.Gid != 0 {
			t.Errorf("%s: owner %d:%d, want 1001:0", name, st.Uid, st.Gid)
		}
	}
}

func TestPrepareRefusesDestinationInsideSource(t *testing.T) {
	src := t.TempDir()
	write(t, src, map[string]string{"a": "a"})
	_, err := Prepare(context.Background(), Options{Source: src}, filepath.Join(src, "out", "upload", "src"))
	if err == nil || !strings.Contains(err.Error(), "inside the source") {
		t.Fatalf("error = %v, want 'inside the source'", err)
	}
}

func TestPrepareNotEmptyDestination(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	write(t, src, map[string]string{"a": "a"})
	write(t, dst, map[string]string{"old": "x"})
	if _, err := Prepare(context.Background(), Options{Source: src}, dst); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("error = %v, want 'not empty'", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com",
		"GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitRepo makes a repository with main (app.py=main) and feature
// (app.py=feature, web/x), main checked out, plus an uncommitted edit and an
// untracked file.
func gitRepo(t *testing.T) string {
	repo := t.TempDir()
	run(t, repo, "git", "init", "-q", "-b", "main")
	write(t, repo, map[string]string{"app.py": "main"})
	run(t, repo, "git", "add", ".")
	run(t, repo, "git", "commit", "-q", "-m", "first")
	run(t, repo, "git", "checkout", "-q", "-b", "feature")
	write(t, repo, map[string]string{"app.py": "feature", "web/x": "x", "web/up": "->../app.py"})
	run(t, repo, "git", "add", ".")
	run(t, repo, "git", "commit", "-q", "-m", strings.Repeat("long subject ", 10))
	run(t, repo, "git", "tag", "v1")
	run(t, repo, "git", "checkout", "-q", "main")
	write(t, repo, map[string]string{"untracked": "u"})
	must(t, os.WriteFile(filepath.Join(repo, "app.py"), []byte("edited"), 0o644))
	return repo
}

func TestPrepareGit(t *testing.T) {
	repo := gitRepo(t)
	featureSHA := run(t, repo, "git", "rev-parse", "feature")
	status := run(t, repo, "git", "status", "--porcelain", "--branch")
	def := regexp.MustCompile(DefaultExclude)
	tests := []struct {
		name    string
		opt     Options
		want    map[string]string
		ref     string
		wantErr string
	}{
		{
			name: "working tree as on disk",
			opt:  Options{Source: repo, Exclude: def},
			want: map[string]string{"app.py": "edited", "untracked": "u"},
		},
		{
			name: "branch",
			opt:  Options{Source: repo, Ref: "feature", Exclude: def},
			want: map[string]string{"app.py": "feature", "web/": "", "web/x": "x", "web/up": "->../app.py"},
			ref:  "feature",
		},
		{
			name: "tag with context dir",
			opt:  Options{Source: repo, Ref: "v1", ContextDir: "web", Exclude: def},
			want: map[string]string{"x": "x", "up": "->../app.py"},
			ref:  "HEAD",
		},
		{
			name: "sha",
			opt:  Options{Source: repo, Ref: featureSHA, Exclude: def},
			want: map[string]string{"app.py": "feature", "web/": "", "web/x": "x", "web/up": "->../app.py"},
			ref:  "HEAD",
		},
		{
			name: "file URL",
			opt:  Options{Source: "file://" + repo, Ref: "feature", Exclude: def},
			want: map[string]string{"app.py": "feature", "web/": "", "web/x": "x", "web/up": "->../app.py"},
			ref:  "feature",
		},
		{name: "unknown ref", opt: Options{Source: repo, Ref: "nope"}, wantErr: "git checkout --quiet nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "src")
			info, err := Prepare(context.Background(), tt.opt, dst)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tree(t, dst); !same(got, tt.want) {
				t.Errorf("copied %v, want %v", got, tt.want)
			}
			if info.Ref != tt.ref {
				t.Errorf("ref = %q, want %q", info.Ref, tt.ref)
			}
			if tt.ref != "" {
				if info.Commit != featureSHA || info.Author != "Ann <ann@example.com>" || info.Date == "" {
					t.Errorf("info = %+v", info)
				}
				if len(info.Message) != 80 || !strings.HasSuffix(info.Message, "..") {
					t.Errorf("message %q: want 80 characters ending in ..", info.Message)
				}
			}
		})
	}
	// The user's checkout is untouched: same branch, same changes.
	if got := run(t, repo, "git", "status", "--porcelain", "--branch"); got != status {
		t.Errorf("git status changed:\n%s\nwas:\n%s", got, status)
	}
	if b, _ := os.ReadFile(filepath.Join(repo, "app.py")); string(b) != "edited" {
		t.Errorf("app.py in the user's checkout = %q", b)
	}
}

func TestIgnored(t *testing.T) {
	entries := []string{"a.pyc", "app.py", "docs", "docs/x.md", "docs/y.md", "sub", "sub/b.pyc", "tests", "tests/t.py", "link"}
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"nothing", nil, []string{}},
		{"comments and blanks", []string{"# docs", "", "   "}, []string{}},
		{"not recursive", []string{"*.pyc"}, []string{"a.pyc"}},
		{"explicit subdir", []string{"*.pyc", "sub/*.pyc"}, []string{"a.pyc", "sub/b.pyc"}},
		{"directory", []string{"docs", " tests "}, []string{"docs", "tests"}},
		{"re-include", []string{"docs/*", "!docs/y.md"}, []string{"docs/x.md"}},
		{"re-include only earlier picks", []string{"!docs/y.md", "docs/*"}, []string{"docs/x.md", "docs/y.md"}},
		{"leading slash and dot", []string{"/app.py", "./link"}, []string{"app.py", "link"}},
		{"never outside or the root", []string{"../x", "..", ".", "/"}, []string{}},
	}
	for _, tt := range tests {
		got := Ignored(tt.lines, entries)
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s: Ignored(%q) = %q, want %q", tt.name, tt.lines, got, tt.want)
		}
	}
}

func TestPrepareApplies2iignore(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	write(t, outside, map[string]string{"keep.pyc": "precious"})
	src := filepath.Join(base, "src")
	write(t, src, map[string]string{
		".s2iignore":  "# build junk\n*.pyc\nout\nlink/*\nro\n",
		"app.py":      "a",
		"x.pyc":       "x",
		"out/big.bin": "b",
		"link":        "->" + outside,
		"ro/f":        "f",
	})
	must(t, os.Chmod(filepath.Join(src, "ro"), 0o555))
	dst := filepath.Join(t.TempDir(), "src")
	if _, err := Prepare(context.Background(), Options{Source: src}, dst); err != nil {
		t.Fatal(err)
	}
	got := tree(t, dst)
	want := map[string]string{".s2iignore": "# build junk\n*.pyc\nout\nlink/*\nro\n", "app.py": "a", "link": "->" + outside}
	if !same(got, want) {
		t.Errorf("copied %v, want %v", got, want)
	}
	// "link/*" did not reach through the symlink.
	if b, err := os.ReadFile(filepath.Join(outside, "keep.pyc")); err != nil || string(b) != "precious" {
		t.Errorf("outside/keep.pyc: %q, %v", b, err)
	}
}

func TestPrepareSymlinkedRoot(t *testing.T) {
	base := t.TempDir()
	write(t, base, map[string]string{"real/app.py": "a", "alias": "->real"})
	dst := filepath.Join(t.TempDir(), "src")
	info, err := Prepare(context.Background(), Options{Source: filepath.Join(base, "alias")}, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got := tree(t, dst); !same(got, map[string]string{"app.py": "a"}) {
		t.Errorf("copied %v", got)
	}
	if info.Location != filepath.Join(base, "alias") {
		t.Errorf("location %s: want the path as given", info.Location)
	}
}

func TestPrepareEmptyGitRepository(t *testing.T) {
	repo := t.TempDir()
	run(t, repo, "git", "init", "-q")
	write(t, repo, map[string]string{"app.py": "uncommitted"})
	_, err := Prepare(context.Background(), Options{Source: repo, Ref: "main"}, filepath.Join(t.TempDir(), "src"))
	if err == nil || !strings.Contains(err.Error(), "has no tracking information or commits") || exitcode.Of(err) != exitcode.EmptyGitRepository {
		t.Fatalf("error = %v (exit %d), want s2i's empty repository error, exit 16", err, exitcode.Of(err))
	}
	// Without --ref the files on disk are built, commits or not.
	dst := filepath.Join(t.TempDir(), "src")
	if _, err := Prepare(context.Background(), Options{Source: repo, Exclude: regexp.MustCompile(DefaultExclude)}, dst); err != nil {
		t.Fatal(err)
	}
	if got := tree(t, dst); !same(got, map[string]string{"app.py": "uncommitted"}) {
		t.Errorf("copied %v", got)
	}
}

// A source file named like a whiteout (".wh.x", ".wh..wh..opq") would be
// read as one in the image layer and delete or hide content: the copy is
// refused, naming the file relative to the source, unless --exclude or
// .s2iignore leaves it out.
func TestPrepareRefusesWhiteoutNames(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		opt     Options // Source is set by the test
		wantErr string  // "" for a copy
	}{
		{name: "look-alikes are files", files: map[string]string{"wh.x": "x", "x.wh.y": "x", ".whx": "x", "d/.wh": "x"}},
		{name: "a whiteout name", files: map[string]string{"app.py": "a", ".wh.app.py": "x"}, wantErr: `source file .wh.app.py: a name starting with ".wh." is read as a whiteout`},
		{name: "an opaque marker", files: map[string]string{"web/.wh..wh..opq": ""}, wantErr: "source file web/.wh..wh..opq: "},
		{name: "a directory", files: map[string]string{".wh.dir/f": "x"}, wantErr: "source file .wh.dir: "},
		{name: "a symlink", files: map[string]string{".wh.link": "->app.py"}, wantErr: "source file .wh.link: "},
		{name: "named from the source root", files: map[string]string{"web/.wh.x": "x"}, opt: Options{ContextDir: "web"}, wantErr: "source file web/.wh.x: "},
		{name: "excluded", files: map[string]string{"a": "a", "junk/.wh.x": "x"}, opt: Options{Exclude: regexp.MustCompile(`^junk$`)}},
		{name: "deleted by .s2iignore", files: map[string]string{"a": "a", ".wh.x": "x", ".s2iignore": ".wh.x\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			write(t, src, tt.files)
			opt := tt.opt
			opt.Source = src
			_, err := Prepare(context.Background(), opt, filepath.Join(t.TempDir(), "src"))
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// FIFOs, sockets and device files are left out, and reported with their
// kind and their path relative to the source (the build warns about each).
func TestPrepareReportsSpecialFiles(t *testing.T) {
	src := t.TempDir()
	write(t, src, map[string]string{"app.py": "a", "web/index.html": "i"})
	must(t, syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(src, "web/pipe"), 0o644))
	must(t, syscall.Mknod(filepath.Join(src, "web/null"), syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	tests := []struct {
		name string
		opt  Options
		want []string
	}{
		{"whole source", Options{Source: src}, []string{"fifo (FIFO)", "web/null (character device)", "web/pipe (FIFO)"}},
		{"context dir", Options{Source: src, ContextDir: "web"}, []string{"web/null (character device)", "web/pipe (FIFO)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Prepare(context.Background(), tt.opt, filepath.Join(t.TempDir(), "src"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range info.Skipped {
				got = append(got, s.String())
			}
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("skipped = %q, want %q", got, tt.want)
			}
		})
	}
}

// LocalContext gives a local source's context directory when the copy
// would hold the paths as they are there, so a build can read them before
// it pulls anything; "" whenever only the copy can tell.
func TestLocalContext(t *testing.T) {
	env := map[string]string{".s2i/environment": "A=1"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{"app.py": "a"}
		for k, v := range env {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		files map[string]string
		opt   Options // Source is set by the test
		want  string  // relative to the source; "-" for ""
	}{
		{name: "as on disk", files: with(nil), want: "."},
		{name: "context dir", files: map[string]string{"web/.s2i/environment": "A=1"}, opt: Options{ContextDir: "web"}, want: "web"},
		{name: "no such file", files: map[string]string{"app.py": "a"}, want: "-"},
		{name: "a ref: the checkout", files: with(nil), opt: Options{Ref: "main"}, want: "-"},
		{name: "excluded", files: with(nil), opt: Options{Exclude: regexp.MustCompile(`^\.s2i$`)}, want: "-"},
		{name: "in .s2iignore", files: with(map[string]string{".s2iignore": ".s2i/env*\n"}), want: "-"},
		{name: "kept by .s2iignore", files: with(map[string]string{".s2iignore": ".s2i/*\n!.s2i/environment\n"}), want: "."},
		{name: "a symlink", files: map[string]string{"real/environment": "A=1", ".s2i": "->real"}, want: "-"},
		{name: "context dir missing", files: with(nil), opt: Options{ContextDir: "nope"}, want: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			write(t, src, tt.files)
			opt := tt.opt
			opt.Source = src
			want := ""
			if tt.want != "-" {
				want = filepath.Join(src, tt.want)
			}
			if got := LocalContext(opt, ".s2i", ".s2i/environment"); got != want {
				t.Errorf("LocalContext = %q, want %q", got, want)
			}
		})
	}
	if got := LocalContext(Options{Source: "https://example.com/app.git"}, ".s2i"); got != "" {
		t.Errorf("a URL: %q", got)
	}
}
