package main

var saveArtifactsMain = notYet("save-artifacts")
