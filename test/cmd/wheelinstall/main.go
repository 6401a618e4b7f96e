// Command wheelinstall runs builder/wheel as the locked-install path does,
// for benchmarks: `wheelinstall -python VENV/bin/python3 -index-url URL
// -r requirements.txt` installs every hashed name==version line and fails
// if anything is left to pip.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/pys2i/pys2i/builder/wheel"
)

func main() {
	python := flag.String("python", "", "the venv's interpreter (pip's)")
	index := flag.String("index-url", "", "pip's --index-url")
	req := flag.String("r", "", "requirements file: name==version --hash=sha256:... lines")
	trace := flag.Bool("v", false, "print how long each phase took")
	flag.Parse()
	if err := run(*python, *index, *req, *trace); err != nil {
		fmt.Fprintln(os.Stderr, "wheelinstall:", err)
		os.Exit(1)
	}
}

func run(python, index, req string, trace bool) error {
	f, err := os.Open(req)
	if err != nil {
		return err
	}
	defer f.Close()
	var reqs []wheel.Req
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, ok := wheel.SplitLine(line)
		if !ok {
			return fmt.Errorf("line %q: not name==version --hash", line)
		}
		reqs = append(reqs, r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	o := wheel.Options{
		Python: python, Env: os.Environ(), Log: os.Stderr,
		PipArgs: []string{"install", "--require-hashes", "--no-deps", "--index-url", index},
	}
	if trace {
		o.Trace = os.Stderr
	}
	res, err := wheel.Install(context.Background(), o, reqs)
	if err != nil {
		return err
	}
	if len(res.ForPip) > 0 {
		return fmt.Errorf("%d requirements left to pip", len(res.ForPip))
	}
	fmt.Printf("Successfully installed %s\n", strings.Join(res.Installed, " "))
	return nil
}
