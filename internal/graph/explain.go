package graph

import (
	"context"

	"mmconsole/internal/i18n"
)

// Explanation is a Graph error code in plain words, in the reader's language: what happened
// and what the user should do. The webhook log, the composer and every page that shows a
// Graph error show it next to the raw code, so the table covers every code in
// mm-api-reference.md §2.3.
type Explanation struct {
	Title     string
	Meaning   string
	Action    string
	Transient bool // retrying later can succeed without changing anything
}

// explained is one row of the table: the catalog keys of the three sentences. Words are chosen
// when an error is shown, so each reader sees their own language.
type explained struct {
	title, meaning, action string
	transient              bool
}

// explanations is read-only after package initialisation; it is a lookup
// table, not mutable state.
var explanations = map[int]explained{
	0:       {i18n.Key("meta.0.title"), i18n.Key("meta.0.meaning"), i18n.Key("meta.0.action"), false},
	1:       {i18n.Key("meta.1.title"), i18n.Key("meta.1.meaning"), i18n.Key("meta.1.action"), true},
	2:       {i18n.Key("meta.2.title"), i18n.Key("meta.2.meaning"), i18n.Key("meta.2.action"), true},
	4:       {i18n.Key("meta.4.title"), i18n.Key("meta.4.meaning"), i18n.Key("meta.4.action"), true},
	10:      {i18n.Key("meta.10.title"), i18n.Key("meta.10.meaning"), i18n.Key("meta.10.action"), false},
	100:     {i18n.Key("meta.100.title"), i18n.Key("meta.100.meaning"), i18n.Key("meta.100.action"), false},
	190:     {i18n.Key("meta.190.title"), i18n.Key("meta.190.meaning"), i18n.Key("meta.190.action"), false},
	200:     {i18n.Key("meta.200.title"), i18n.Key("meta.200.meaning"), i18n.Key("meta.200.action"), false},
	368:     {i18n.Key("meta.368.title"), i18n.Key("meta.368.meaning"), i18n.Key("meta.368.action"), false},
	80007:   {i18n.Key("meta.80007.title"), i18n.Key("meta.80007.meaning"), i18n.Key("meta.80007.action"), true},
	130429:  {i18n.Key("meta.130429.title"), i18n.Key("meta.130429.meaning"), i18n.Key("meta.130429.action"), true},
	130472:  {i18n.Key("meta.130472.title"), i18n.Key("meta.130472.meaning"), i18n.Key("meta.130472.action"), false},
	130497:  {i18n.Key("meta.130497.title"), i18n.Key("meta.130497.meaning"), i18n.Key("meta.130497.action"), false},
	131009:  {i18n.Key("meta.131009.title"), i18n.Key("meta.131009.meaning"), i18n.Key("meta.131009.action"), false},
	131026:  {i18n.Key("meta.131026.title"), i18n.Key("meta.131026.meaning"), i18n.Key("meta.131026.action"), false},
	131031:  {i18n.Key("meta.131031.title"), i18n.Key("meta.131031.meaning"), i18n.Key("meta.131031.action"), false},
	131042:  {i18n.Key("meta.131042.title"), i18n.Key("meta.131042.meaning"), i18n.Key("meta.131042.action"), false},
	131047:  {i18n.Key("meta.131047.title"), i18n.Key("meta.131047.meaning"), i18n.Key("meta.131047.action"), false},
	131048:  {i18n.Key("meta.131048.title"), i18n.Key("meta.131048.meaning"), i18n.Key("meta.131048.action"), false},
	131049:  {i18n.Key("meta.131049.title"), i18n.Key("meta.131049.meaning"), i18n.Key("meta.131049.action"), false},
	131050:  {i18n.Key("meta.131050.title"), i18n.Key("meta.131050.meaning"), i18n.Key("meta.131050.action"), false},
	131055:  {i18n.Key("meta.131055.title"), i18n.Key("meta.131055.meaning"), i18n.Key("meta.131055.action"), false},
	131056:  {i18n.Key("meta.131056.title"), i18n.Key("meta.131056.meaning"), i18n.Key("meta.131056.action"), true},
	131057:  {i18n.Key("meta.131057.title"), i18n.Key("meta.131057.meaning"), i18n.Key("meta.131057.action"), true},
	131061:  {i18n.Key("meta.131061.title"), i18n.Key("meta.131061.meaning"), i18n.Key("meta.131061.action"), false},
	131062:  {i18n.Key("meta.131062.title"), i18n.Key("meta.131062.meaning"), i18n.Key("meta.131062.action"), false},
	131063:  {i18n.Key("meta.131063.title"), i18n.Key("meta.131063.meaning"), i18n.Key("meta.131063.action"), false},
	132000:  {i18n.Key("meta.132000.title"), i18n.Key("meta.132000.meaning"), i18n.Key("meta.132000.action"), false},
	132001:  {i18n.Key("meta.132001.title"), i18n.Key("meta.132001.meaning"), i18n.Key("meta.132001.action"), false},
	132005:  {i18n.Key("meta.132005.title"), i18n.Key("meta.132005.meaning"), i18n.Key("meta.132005.action"), false},
	132007:  {i18n.Key("meta.132007.title"), i18n.Key("meta.132007.meaning"), i18n.Key("meta.132007.action"), false},
	132012:  {i18n.Key("meta.132012.title"), i18n.Key("meta.132012.meaning"), i18n.Key("meta.132012.action"), false},
	132015:  {i18n.Key("meta.132015.title"), i18n.Key("meta.132015.meaning"), i18n.Key("meta.132015.action"), false},
	132016:  {i18n.Key("meta.132016.title"), i18n.Key("meta.132016.meaning"), i18n.Key("meta.132016.action"), false},
	132018:  {i18n.Key("meta.132018.title"), i18n.Key("meta.132018.meaning"), i18n.Key("meta.132018.action"), false},
	133016:  {i18n.Key("meta.133016.title"), i18n.Key("meta.133016.meaning"), i18n.Key("meta.133016.action"), true},
	134100:  {i18n.Key("meta.134100.title"), i18n.Key("meta.134100.meaning"), i18n.Key("meta.134100.action"), false},
	134101:  {i18n.Key("meta.134101.title"), i18n.Key("meta.134101.meaning"), i18n.Key("meta.134101.action"), false},
	134102:  {i18n.Key("meta.134102.title"), i18n.Key("meta.134102.meaning"), i18n.Key("meta.134102.action"), false},
	134103:  {i18n.Key("meta.134103.title"), i18n.Key("meta.134103.meaning"), i18n.Key("meta.134103.action"), false},
	135000:  {i18n.Key("meta.135000.title"), i18n.Key("meta.135000.meaning"), i18n.Key("meta.135000.action"), false},
	1752041: {i18n.Key("meta.1752041.title"), i18n.Key("meta.1752041.meaning"), i18n.Key("meta.1752041.action"), false},
	2388024: {i18n.Key("meta.2388024.title"), i18n.Key("meta.2388024.meaning"), i18n.Key("meta.2388024.action"), false},
	// The 2388xxx family: Meta's refusals of a template at creation or edit. Only 2388024 is in
	// the reference; the meanings follow Meta's public error pages [I].
	2388040: {i18n.Key("meta.2388040.title"), i18n.Key("meta.2388040.meaning"), i18n.Key("meta.2388040.action"), false},
	2388043: {i18n.Key("meta.2388043.title"), i18n.Key("meta.2388043.meaning"), i18n.Key("meta.2388043.action"), false},
	2388047: {i18n.Key("meta.2388047.title"), i18n.Key("meta.2388047.meaning"), i18n.Key("meta.2388047.action"), false},
	2388071: {i18n.Key("meta.2388071.title"), i18n.Key("meta.2388071.meaning"), i18n.Key("meta.2388071.action"), false},
	2388072: {i18n.Key("meta.2388072.title"), i18n.Key("meta.2388072.meaning"), i18n.Key("meta.2388072.action"), false},
	2388073: {i18n.Key("meta.2388073.title"), i18n.Key("meta.2388073.meaning"), i18n.Key("meta.2388073.action"), false},
	2388023: {i18n.Key("meta.2388023.title"), i18n.Key("meta.2388023.meaning"), i18n.Key("meta.2388023.action"), false},
}

// unknownCode is said of codes the table does not hold; it still shows the code beside it.
var unknownCode = explained{i18n.Key("meta.unknown.title"), i18n.Key("meta.unknown.meaning"), i18n.Key("meta.unknown.action"), false}

func (e explained) in(ctx context.Context) Explanation {
	return Explanation{
		Title:     i18n.T(ctx, e.title),
		Meaning:   i18n.T(ctx, e.meaning),
		Action:    i18n.T(ctx, e.action),
		Transient: e.transient,
	}
}

// Explain returns the plain-words explanation of a Graph error code in the language of ctx.
// Codes we do not know get a generic explanation; the caller shows the code next to it.
func Explain(ctx context.Context, code int) Explanation {
	if x, ok := explanations[code]; ok {
		return x.in(ctx)
	}
	return unknownCode.in(ctx)
}

// retryableCodes are the codes that a read may retry: Meta marks them as
// temporary (unknown, service down, rate and throughput limits, maintenance).
func retryableCode(code int) bool {
	switch code {
	case 1, 2, 4, 80007, 130429, 131057:
		return true
	}
	return false
}
