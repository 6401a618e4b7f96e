package main

var runMain = notYet("run")
