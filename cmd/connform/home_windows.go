package main

// osHome is windowsHome; Windows environment names ignore case (the block
// may say AppData or APPDATA).
func osHome(env []string) (string, error) { return windowsHome(envLookup(env, true)) }
