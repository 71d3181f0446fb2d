//go:build !lockorder

package kernel

// lockOrderCheck is off: mutex is a sync.Mutex (lockorder.go).
const lockOrderCheck = false
