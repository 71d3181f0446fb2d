module thr_goprog

go 1.22
