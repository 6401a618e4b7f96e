package main

var fixPermissionsMain = notYet("fix-permissions")
