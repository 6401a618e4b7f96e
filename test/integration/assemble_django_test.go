package integration

import (
	"context"
	"strings"
	"testing"
	"time"
)

func asmDjangoApp(settings string) map[string]string {
	return map[string]string{
		"requirements.txt": "django==3.2.25\n",
		"manage.py": `import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
`,
		"proj/__init__.py":     "",
		"proj/settings.py":     settings,
		"proj/static/site.css": "body{}\n",
		"proj/urls.py":         "urlpatterns = []\n",
	}
}

const asmDjangoSettings = `import os
BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "x"
INSTALLED_APPS = ["django.contrib.staticfiles"]
ROOT_URLCONF = "proj.urls"
STATIC_URL = "/static/"
STATICFILES_DIRS = [os.path.join(BASE_DIR, "proj", "static")]
`

// Django installed (seen in site-packages): collectstatic runs for real,
// warns when the dry run fails or manage.py is missing, and is skipped with
// DISABLE_COLLECTSTATIC.
func TestAssembleDjangoCollectstatic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		files    map[string]string
		env      []string
		want     []string
		collects bool
	}{
		{"collects", asmDjangoApp(asmDjangoSettings + "STATIC_ROOT = os.path.join(BASE_DIR, 'staticroot')\n"), nil,
			[]string{"---> Collecting Django static files ...", "static file"}, true},
		{"dry-run-fails", asmDjangoApp(asmDjangoSettings), nil, []string{
			"---> Collecting Django static files ...",
			"WARNING: could not run 'manage.py collectstatic'. To debug, run:\n    $ python ./manage.py collectstatic --noinput\nIgnore this warning if you're not serving static files with Django.\n"}, false},
		{"no-manage-py", map[string]string{"requirements.txt": "django==3.2.25\n"}, nil, []string{
			"---> Collecting Django static files ...",
			"WARNING: seems that you're using Django, but we could not find a 'manage.py' file.\n'manage.py collectstatic' ignored.\n"}, false},
		{"disabled", asmDjangoApp(asmDjangoSettings + "STATIC_ROOT = os.path.join(BASE_DIR, 'staticroot')\n"), []string{"DISABLE_COLLECTSTATIC=1"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b := asmNewBox(t, ctx, "minimal", tc.files)
			out := b.mustAssemble(tc.env...)
			asmInOrder(t, out, append([]string{"---> Installing dependencies ..."}, tc.want...)...)
			if tc.want == nil && strings.Contains(out, "Collecting Django") {
				t.Errorf("collectstatic ran:\n%s", out)
			}
			got := b.sh(`test -f $HOME/staticroot/site.css && echo collected || echo none; cd /tmp && python -c 'import django; print(django.__version__)'`)
			want := "none\n3.2.25\n"
			if tc.collects {
				want = "collected\n3.2.25\n"
			}
			if got != want {
				t.Errorf("got %q want %q\n%s", got, want, out)
			}
		})
	}
}
