// Package docs holds connform's reference documentation. The Go file exists
// so that the test keeping the documents' JSON samples valid lives beside
// them.
package docs
