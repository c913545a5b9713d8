package auth

// checkTokenDir accepts any folder: Windows keeps who may write a folder in
// its ACL, which Go's mode bits do not reflect (a folder always shows as
// 0777), so the Unix rule would refuse every folder. The default folder
// under %AppData% is private to the user by its inherited ACL; a folder
// named by CONNFORM_HOME is trusted as the user set it up (docs/platforms.md).
func checkTokenDir(string) error { return nil }
