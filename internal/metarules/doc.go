// Package metarules holds the rules Meta applies to a marketing send that the console checks
// before sending and the sandbox enforces when simulating Meta: the marketing TTL range and the
// one TTL input format of the console, which +1 numbers are US numbers (blocked with 131049), and
// which template variable values Meta refuses, and the rules of a template's definition at
// creation (name, language, component lengths and counts, variables and their examples). It is
// pure (no I/O, no state) so the composer, the template pages, the authoring form and the
// sandbox share one copy of each rule.
package metarules
