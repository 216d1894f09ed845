// Package designdoc holds the test that keeps docs/DESIGN.md's API sections in step with the code: every
// identifier a section declares must exist in its package, and the packages listed in complete must have every
// exported identifier in their section.
package designdoc
