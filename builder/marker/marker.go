// Package marker parses and evaluates PEP 508 environment markers
// ("python_version < '3.12' and sys_platform == 'linux'") against an
// environment, as pip's packaging library does: version operators compare
// PEP 440 versions when both sides are versions, strings otherwise; extra
// names are normalized. Parsing and evaluation are pure.
package marker

import (
	"fmt"
	"regexp"
	"strings"
)

// Env is the environment a marker is evaluated against: the values of the
// marker variables (python_version, sys_platform, ...) and, for PEP 751
// locks, the sets "extras" and "dependency_groups".
type Env struct {
	Vars   map[string]string
	Extras []string // the extras asked for ('x' in extras)
	Groups []string // the dependency groups asked for ('dev' in dependency_groups)
}

// Variables are the PEP 508 marker variables (extra aside).
var Variables = []string{
	"implementation_name", "implementation_version", "os_name", "platform_machine",
	"platform_python_implementation", "platform_release", "platform_system",
	"platform_version", "python_full_version", "python_version", "sys_platform",
}

// legacy spellings packaging still accepts.
var aliases = map[string]string{
	"os.name": "os_name", "sys.platform": "sys_platform", "platform.version": "platform_version",
	"platform.machine": "platform_machine", "platform.python_implementation": "platform_python_implementation",
	"python_implementation": "platform_python_implementation",
}

// Marker is a parsed marker expression.
type Marker struct {
	text string
	root node
}

func (m *Marker) String() string { return m.text }

// Error is a marker that cannot be read.
type Error struct {
	Marker string
	Pos    int
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid marker %q at position %d: %s", e.Marker, e.Pos, e.Msg)
}

type node interface{}

type boolOp struct {
	and         bool
	left, right node
}

type compare struct {
	lhs, rhs operand
	op       string
}

type operand struct {
	variable string // set for a variable
	value    string // a quoted string
}

// Parse reads a marker expression.
func Parse(s string) (*Marker, error) {
	p := &parser{src: s}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if len(p.toks) == 0 {
		return nil, &Error{s, 0, "empty marker"}
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, p.errf("unexpected %q", p.toks[p.i].text)
	}
	return &Marker{text: s, root: n}, nil
}

// Evaluate parses and evaluates s in one call.
func Evaluate(s string, env Env) (bool, error) {
	m, err := Parse(s)
	if err != nil {
		return false, err
	}
	return m.Evaluate(env)
}

type tokKind int

const (
	tIdent tokKind = iota
	tString
	tOp
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string
	pos  int
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) errf(format string, a ...any) error {
	pos := len(p.src)
	if p.i < len(p.toks) {
		pos = p.toks[p.i].pos
	}
	return &Error{p.src, pos, fmt.Sprintf(format, a...)}
}

var (
	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*`)
	opRE    = regexp.MustCompile(`^(===|==|!=|<=|>=|~=|<|>)`)
)

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{tLParen, "(", i})
			i++
		case c == ')':
			p.toks = append(p.toks, token{tRParen, ")", i})
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return &Error{s, i, "unterminated string"}
			}
			p.toks = append(p.toks, token{tString, s[i+1 : i+1+j], i})
			i += j + 2
		default:
			if m := opRE.FindString(s[i:]); m != "" {
				p.toks = append(p.toks, token{tOp, m, i})
				i += len(m)
				continue
			}
			if m := identRE.FindString(s[i:]); m != "" {
				p.toks = append(p.toks, token{tIdent, m, i})
				i += len(m)
				continue
			}
			return &Error{s, i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return nil
}

func (p *parser) peekIdent(word string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == tIdent && p.toks[p.i].text == word
}

func (p *parser) or() (node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekIdent("or") {
		p.i++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = boolOp{and: false, left: left, right: right}
	}
	return left, nil
}

func (p *parser) and() (node, error) {
	left, err := p.atom()
	if err != nil {
		return nil, err
	}
	for p.peekIdent("and") {
		p.i++
		right, err := p.atom()
		if err != nil {
			return nil, err
		}
		left = boolOp{and: true, left: left, right: right}
	}
	return left, nil
}

func (p *parser) atom() (node, error) {
	if p.i >= len(p.toks) {
		return nil, p.errf("expression expected")
	}
	if p.toks[p.i].kind == tLParen {
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != tRParen {
			return nil, p.errf("')' expected")
		}
		p.i++
		return n, nil
	}
	lhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	op, err := p.op()
	if err != nil {
		return nil, err
	}
	rhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	if lhs.variable == "" && rhs.variable == "" {
		p.i--
		return nil, p.errf("a comparison needs a variable on one side")
	}
	return compare{lhs: lhs, op: op, rhs: rhs}, nil
}

func (p *parser) operand() (operand, error) {
	if p.i >= len(p.toks) {
		return operand{}, p.errf("variable or string expected")
	}
	t := p.toks[p.i]
	switch t.kind {
	case tString:
		p.i++
		return operand{value: t.text}, nil
	case tIdent:
		name := t.text
		if a, ok := aliases[name]; ok {
			name = a
		}
		if !isVariable(name) {
			return operand{}, p.errf("unknown marker variable %q", t.text)
		}
		p.i++
		return operand{variable: name}, nil
	}
	return operand{}, p.errf("variable or string expected, not %q", t.text)
}

func isVariable(name string) bool {
	switch name {
	case "extra", "extras", "dependency_groups":
		return true
	}
	for _, v := range Variables {
		if v == name {
			return true
		}
	}
	return false
}

func (p *parser) op() (string, error) {
	if p.i >= len(p.toks) {
		return "", p.errf("operator expected")
	}
	t := p.toks[p.i]
	switch {
	case t.kind == tOp:
		p.i++
		return t.text, nil
	case t.kind == tIdent && t.text == "in":
		p.i++
		return "in", nil
	case t.kind == tIdent && t.text == "not":
		if p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tIdent && p.toks[p.i+1].text == "in" {
			p.i += 2
			return "not in", nil
		}
	}
	return "", p.errf("operator expected, not %q", t.text)
}

// Evaluate evaluates the marker against env. A variable missing from
// env.Vars is an error, except extra (empty: no extra).
func (m *Marker) Evaluate(env Env) (bool, error) {
	b, err := eval(m.root, env)
	if err != nil {
		return false, fmt.Errorf("marker %q: %w", m.text, err)
	}
	return b, nil
}

func eval(n node, env Env) (bool, error) {
	switch n := n.(type) {
	case boolOp:
		l, err := eval(n.left, env)
		if err != nil {
			return false, err
		}
		if n.and && !l {
			return false, nil
		}
		if !n.and && l {
			return true, nil
		}
		return eval(n.right, env)
	case compare:
		return evalCompare(n, env)
	}
	return false, fmt.Errorf("internal: unknown node %T", n)
}

func evalCompare(c compare, env Env) (bool, error) {
	// A set variable (PEP 751): 'x' in extras, 'dev' not in dependency_groups.
	for _, set := range []struct {
		name string
		vals []string
	}{{"extras", env.Extras}, {"dependency_groups", env.Groups}} {
		if c.rhs.variable == set.name || c.lhs.variable == set.name {
			if c.rhs.variable != set.name || c.lhs.variable != "" || (c.op != "in" && c.op != "not in") {
				return false, fmt.Errorf("%s can only be tested with 'NAME' in %s", set.name, set.name)
			}
			in := false
			for _, v := range set.vals {
				if normalize(v) == normalize(c.lhs.value) {
					in = true
				}
			}
			return in == (c.op == "in"), nil
		}
	}
	lhs, err := value(c.lhs, env)
	if err != nil {
		return false, err
	}
	rhs, err := value(c.rhs, env)
	if err != nil {
		return false, err
	}
	if c.lhs.variable == "extra" || c.rhs.variable == "extra" {
		lhs, rhs = normalize(lhs), normalize(rhs)
	}
	switch c.op {
	case "in":
		return strings.Contains(rhs, lhs), nil
	case "not in":
		return !strings.Contains(rhs, lhs), nil
	}
	// As packaging: when "op rhs" is a version specifier, whether lhs is a
	// version it contains (false when lhs is no version, === aside); a
	// string comparison otherwise.
	if _, ok := specMatch(Version{Release: []int{0}, Post: -1, Dev: -1}, c.op, rhs); ok {
		v, err := ParseVersion(lhs)
		if err != nil {
			return c.op == "===" && strings.EqualFold(strings.TrimSpace(lhs), strings.TrimSpace(rhs)), nil
		}
		m, _ := specMatch(v, c.op, rhs)
		return m, nil
	}
	switch c.op {
	case "==", "===":
		return lhs == rhs, nil
	case "!=":
		return lhs != rhs, nil
	case "<":
		return lhs < rhs, nil
	case "<=":
		return lhs <= rhs, nil
	case ">":
		return lhs > rhs, nil
	case ">=":
		return lhs >= rhs, nil
	}
	return false, fmt.Errorf("%q cannot compare %q and %q", c.op, lhs, rhs)
}

func value(o operand, env Env) (string, error) {
	if o.variable == "" {
		return o.value, nil
	}
	v, ok := env.Vars[o.variable]
	if !ok {
		if o.variable == "extra" {
			return "", nil
		}
		return "", fmt.Errorf("the environment has no value for %s", o.variable)
	}
	return v, nil
}

var normRE = regexp.MustCompile(`[-_.]+`)

func normalize(s string) string { return strings.ToLower(normRE.ReplaceAllString(s, "-")) }
