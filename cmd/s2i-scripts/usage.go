package main

var usageMain = notYet("usage")
