package metarules

// Meta blocks all marketing messages to US numbers since 1 Apr 2025 (131049, mm-api-reference
// §2.3 and §9). "US" is the country, not the +1 prefix: Canada and the Caribbean countries of the
// North American Numbering Plan share +1 and are not blocked, so a +1 number is told apart by its
// area code. The table lists the area codes that are NOT the United States; every other +1
// number, including US territories (Puerto Rico, Guam, the US Virgin Islands…), toll-free and
// unassigned codes, counts as a US number, so an unknown code errs towards the warning.
var nonUSAreaCodes = map[string]string{
	// Canada (geographic and non-geographic codes).
	"204": "Canada", "226": "Canada", "236": "Canada", "249": "Canada", "250": "Canada",
	"257": "Canada", "263": "Canada", "289": "Canada", "306": "Canada", "343": "Canada",
	"354": "Canada", "365": "Canada", "367": "Canada", "368": "Canada", "382": "Canada",
	"387": "Canada", "403": "Canada", "416": "Canada", "418": "Canada", "428": "Canada",
	"431": "Canada", "437": "Canada", "438": "Canada", "450": "Canada", "460": "Canada",
	"468": "Canada", "474": "Canada", "506": "Canada", "514": "Canada", "519": "Canada",
	"548": "Canada", "568": "Canada", "579": "Canada", "581": "Canada", "584": "Canada",
	"587": "Canada", "600": "Canada", "604": "Canada", "613": "Canada", "622": "Canada",
	"639": "Canada", "647": "Canada", "672": "Canada", "683": "Canada", "705": "Canada",
	"709": "Canada", "742": "Canada", "753": "Canada", "778": "Canada", "780": "Canada",
	"782": "Canada", "807": "Canada", "819": "Canada", "825": "Canada", "867": "Canada",
	"873": "Canada", "879": "Canada", "902": "Canada", "905": "Canada", "942": "Canada",
	// The Caribbean and Bermuda.
	"242": "Bahamas", "246": "Barbados", "264": "Anguilla", "268": "Antigua and Barbuda",
	"284": "British Virgin Islands", "345": "Cayman Islands", "441": "Bermuda", "473": "Grenada",
	"649": "Turks and Caicos Islands", "658": "Jamaica", "664": "Montserrat", "721": "Sint Maarten",
	"758": "Saint Lucia", "767": "Dominica", "784": "Saint Vincent and the Grenadines",
	"809": "Dominican Republic", "829": "Dominican Republic", "849": "Dominican Republic",
	"868": "Trinidad and Tobago", "869": "Saint Kitts and Nevis", "876": "Jamaica",
}

// NANPRegion names the country of a +1 number (digits only, country code first): "United
// States" for US numbers, the country for the others, "" for a number that is not +1.
func NANPRegion(digits string) string {
	if len(digits) < 4 || digits[0] != '1' {
		return ""
	}
	if c, ok := nonUSAreaCodes[digits[1:4]]; ok {
		return c
	}
	return "United States"
}

// IsUSNumber reports whether Meta treats the number (digits only) as a US number, whose
// marketing messages it blocks with 131049.
func IsUSNumber(digits string) bool { return NANPRegion(digits) == "United States" }
