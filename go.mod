module github.com/xairrosx/xairrosx

go 1.26
