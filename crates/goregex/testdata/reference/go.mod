module spanwise.invalid/goregex-reference

go 1.26.0
