package main

func osHome(env []string) (string, error) { return darwinHome(envLookup(env, false)) }
