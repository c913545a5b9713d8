// Package examples holds runnable configurations, one folder each with a
// README line saying what it shows. The Go file exists so that the tests
// proving every example loads live beside them.
package examples
