//go:build lockorder

package kernel

// lockOrderCheck is on: every mutex records and checks the lock order (lockorder.go).
const lockOrderCheck = true
