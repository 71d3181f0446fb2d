module procgoprog

go 1.22
