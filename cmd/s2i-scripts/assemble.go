package main

var assembleMain = notYet("assemble")
