//go:build unix && !darwin

package main

func hasDisplay(c *cli) bool { return displayNamed(c.getenv) }
