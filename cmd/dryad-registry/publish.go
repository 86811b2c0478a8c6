package main

import (
	"context"
	"errors"
)

func runPublish(ctx context.Context, env *environment, args []string) error {
	return errors.New("publish: not available yet")
}
