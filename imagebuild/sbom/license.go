package sbom

import (
	"strings"
)

// pythonLicense is a distribution's license as an SPDX expression, from
// (in this order) License-Expression (PEP 639), a License field that is a
// known identifier or expression, or its license classifiers; text is the
// declared License field when no expression could be made of it.
//
// Only identifiers of the SPDX license list known here make an expression:
// a document naming one the list does not have is invalid, and an unknown
// one says nothing a reader can check.
func pythonLicense(h map[string][]string) (expr, text string) {
	if e := first(h["license-expression"]); e != "" {
		if validExpression(e) {
			return e, ""
		}
		text = e
	}
	lic := strings.TrimSpace(first(h["license"]))
	if lic != "" && lic != "UNKNOWN" {
		if validExpression(lic) {
			return lic, ""
		}
		if id, ok := licenseNames[strings.ToLower(lic)]; ok {
			return id, ""
		}
		if text == "" {
			text = lic
		}
	}
	var ids []string
	for _, c := range h["classifier"] {
		name, ok := strings.CutPrefix(c, "License :: ")
		if !ok {
			continue
		}
		if id, ok := classifierLicenses[name]; ok && !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		// Several license classifiers offer a choice of licenses.
		return strings.Join(ids, " OR "), ""
	}
	return "", text
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validExpression reports whether e is an SPDX license expression made of
// known identifiers, AND, OR, WITH and parentheses. A LicenseRef- is not
// one: an SPDX document must then carry the license's text, which a
// distribution's metadata does not give.
func validExpression(e string) bool {
	toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(e))
	if len(toks) == 0 {
		return false
	}
	depth, wantID := 0, true
	for i, t := range toks {
		switch {
		case t == "(":
			if !wantID {
				return false
			}
			depth++
		case t == ")":
			if wantID || depth == 0 {
				return false
			}
			depth--
		case t == "AND" || t == "OR":
			if wantID {
				return false
			}
			wantID = true
		case t == "WITH":
			if wantID || i+1 >= len(toks) || !licenseExceptions[toks[i+1]] {
				return false
			}
		case licenseExceptions[t] && i > 0 && toks[i-1] == "WITH":
			wantID = false
		default:
			if !wantID {
				return false
			}
			id := strings.TrimSuffix(t, "+")
			if !spdxLicenses[id] {
				return false
			}
			wantID = false
		}
	}
	return depth == 0 && !wantID
}

// spdxLicenses are the SPDX license list identifiers Python distributions
// use (a subset of the list, enough to keep an unknown name out).
var spdxLicenses = setOf(
	"0BSD", "AFL-2.1", "AFL-3.0", "AGPL-3.0-only", "AGPL-3.0-or-later", "Apache-1.1", "Apache-2.0",
	"Artistic-2.0", "BlueOak-1.0.0", "BSD-1-Clause", "BSD-2-Clause", "BSD-3-Clause", "BSD-3-Clause-Clear",
	"BSD-4-Clause", "BSL-1.0", "CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CDDL-1.0", "CNRI-Python",
	"EPL-1.0", "EPL-2.0", "EUPL-1.2", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only",
	"GPL-3.0-or-later", "HPND", "ISC", "LGPL-2.0-only", "LGPL-2.0-or-later", "LGPL-2.1-only",
	"LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "MIT", "MIT-0", "MIT-CMU", "MPL-1.1",
	"MPL-2.0", "NCSA", "OpenSSL", "PSF-2.0", "Python-2.0", "Python-2.0.1", "Unicode-3.0",
	"Unicode-DFS-2016", "Unlicense", "UPL-1.0", "W3C", "WTFPL", "X11", "Zlib", "ZPL-2.0", "ZPL-2.1",
)

var licenseExceptions = setOf("Classpath-exception-2.0", "GCC-exception-3.1", "LLVM-exception", "OpenSSL-exception")

// licenseNames are License field values that name one license plainly.
var licenseNames = map[string]string{
	"apache 2.0": "Apache-2.0", "apache-2": "Apache-2.0", "apache license 2.0": "Apache-2.0",
	"apache license, version 2.0": "Apache-2.0", "apache software license": "Apache-2.0",
	"mit license": "MIT", "mit license (mit)": "MIT", "the mit license": "MIT",
	"bsd-3": "BSD-3-Clause", "new bsd": "BSD-3-Clause", "new bsd license": "BSD-3-Clause",
	"isc license": "ISC", "isc license (iscl)": "ISC",
	"mozilla public license 2.0 (mpl 2.0)": "MPL-2.0", "zpl 2.1": "ZPL-2.1",
	"python software foundation license": "PSF-2.0",
}

// classifierLicenses are the trove classifiers that name one license.
var classifierLicenses = map[string]string{
	"OSI Approved :: Apache Software License":                                    "Apache-2.0",
	"OSI Approved :: MIT License":                                                "MIT",
	"OSI Approved :: MIT No Attribution License (MIT-0)":                         "MIT-0",
	"OSI Approved :: ISC License (ISCL)":                                         "ISC",
	"OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)":                       "MPL-2.0",
	"OSI Approved :: Python Software Foundation License":                         "PSF-2.0",
	"OSI Approved :: Boost Software License 1.0 (BSL-1.0)":                       "BSL-1.0",
	"OSI Approved :: GNU General Public License v2 (GPLv2)":                      "GPL-2.0-only",
	"OSI Approved :: GNU General Public License v2 or later (GPLv2+)":            "GPL-2.0-or-later",
	"OSI Approved :: GNU General Public License v3 (GPLv3)":                      "GPL-3.0-only",
	"OSI Approved :: GNU General Public License v3 or later (GPLv3+)":            "GPL-3.0-or-later",
	"OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)":    "LGPL-2.0-or-later",
	"OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)":              "LGPL-3.0-only",
	"OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)":    "LGPL-3.0-or-later",
	"OSI Approved :: GNU Affero General Public License v3":                       "AGPL-3.0-only",
	"OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)":    "AGPL-3.0-or-later",
	"OSI Approved :: The Unlicense (Unlicense)":                                  "Unlicense",
	"OSI Approved :: Universal Permissive License (UPL)":                         "UPL-1.0",
	"OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)":                       "EPL-2.0",
	"OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)":               "EUPL-1.2",
	"OSI Approved :: Historical Permission Notice and Disclaimer (HPND)":         "HPND",
	"CC0 1.0 Universal (CC0 1.0) Public Domain Dedication":                       "CC0-1.0",
	"OSI Approved :: BSD License :: BSD 3-Clause \"New\" or \"Revised\" License": "BSD-3-Clause",
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
