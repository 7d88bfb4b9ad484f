module github.com/recur-ml/recur

go 1.26
