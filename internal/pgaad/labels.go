package pgaad

import "strings"

// Azure's pgaadauth extension writes two security labels on an Entra role:
//   - provider "pgaadauth":     "aadauth[,admin][,mfa]" (older servers: "aadauth,oid=..,type=..[,admin]")
//   - provider "pgaadauth-int": "type=..,oid=..,tenant_id=..[,admin]"

// Labels are the Entra facts that Azure keeps in a role's security labels.
type Labels struct {
	// Entra is true when the role carries the "aadauth" marker: it is an
	// Entra principal, not a plain PostgreSQL role.
	Entra    bool
	Type     string // user, group or service
	ObjectID string
	TenantID string
	Admin    bool
	MFA      bool
	// Conflict says how the two labels disagree, when both carry a fact
	// (public role dumps show roles whose "pgaadauth" label has oid and type
	// as well as a "pgaadauth-int" label) and give it different values;
	// "" when they agree.
	Conflict string
}

// ParseLabels reads the two labels of a role (either may be empty). It
// accepts both forms Azure has used: the current pair of "pgaadauth" and
// "pgaadauth-int" labels, and the older single "pgaadauth" label that
// carries oid and type itself. Unknown tokens are ignored so that a label
// written by a newer server still parses.
func ParseLabels(pgaadauth, pgaadauthInt string) Labels {
	var l Labels
	var facts [2]map[string]string
	for i, label := range []string{pgaadauth, pgaadauthInt} {
		facts[i] = map[string]string{}
		for _, tok := range strings.Split(label, ",") {
			tok = strings.TrimSpace(tok)
			key, value, hasValue := strings.Cut(tok, "=")
			if !hasValue {
				switch strings.ToLower(tok) {
				case "aadauth":
					// Only the "pgaadauth" label marks an Entra role; the
					// internal label alone is not enough.
					if i == 0 {
						l.Entra = true
					}
				case "admin":
					l.Admin = true
				case "mfa":
					l.MFA = true
				}
				continue
			}
			key = strings.ToLower(strings.TrimSpace(key))
			if _, seen := facts[i][key]; !seen {
				facts[i][key] = strings.ToLower(strings.TrimSpace(value))
			}
		}
	}
	// The "pgaadauth" label's fact wins where both have one (GUESS: which
	// one Azure checks at login is not documented).
	l.Type = first(facts[0]["type"], facts[1]["type"])
	l.ObjectID = first(facts[0]["oid"], facts[1]["oid"])
	l.TenantID = first(facts[0]["tenant_id"], facts[1]["tenant_id"])
	l.Conflict = labelConflict(facts[0], facts[1])
	return l
}

// labelConflict names the facts that both labels carry with different values.
func labelConflict(main, internal map[string]string) string {
	var diffs []string
	for _, key := range []string{"oid", "type", "tenant_id"} {
		a, b := main[key], internal[key]
		if a != "" && b != "" && a != b {
			diffs = append(diffs, key+"="+a+" in pgaadauth but "+key+"="+b+" in pgaadauth-int")
		}
	}
	return strings.Join(diffs, "; ")
}

func first(have, next string) string {
	if have != "" {
		return have
	}
	return next
}

// Relabel returns the role's two labels with admin and mfa set as asked,
// in the form they already have: every other token (the "aadauth" marker,
// oid, type, tenant_id, and tokens this code does not know) stays as it is,
// in its place. "admin" is written where Azure writes it (the "pgaadauth"
// label, and the "pgaadauth-int" label when the role has one), "mfa" only
// in the "pgaadauth" label, each at the end as Azure's functions append them.
func Relabel(pgaadauth, pgaadauthInt string, admin, mfa bool) (string, string) {
	main := withFlags(pgaadauth, admin, mfa)
	if pgaadauthInt == "" {
		return main, ""
	}
	return main, withFlags(pgaadauthInt, admin, false)
}

func withFlags(label string, admin, mfa bool) string {
	var toks []string
	for _, tok := range strings.Split(label, ",") {
		switch strings.ToLower(strings.TrimSpace(tok)) {
		case "", "admin", "mfa":
			continue
		}
		toks = append(toks, tok)
	}
	if admin {
		toks = append(toks, "admin")
	}
	if mfa {
		toks = append(toks, "mfa")
	}
	return strings.Join(toks, ",")
}
