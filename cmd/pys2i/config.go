package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// settings layers the command's flags over PYS2I_* variables over the
// config file: --config, else $XDG_CONFIG_HOME/pys2i/config.yaml if present.
func settings(cmd *cobra.Command) (*viper.Viper, error) {
	v := viper.New()
	v.SetEnvPrefix("PYS2I")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return nil, err
	}
	if err := v.BindPFlags(cmd.InheritedFlags()); err != nil {
		return nil, err
	}
	path, explicit := v.GetString("config"), true
	if path == "" {
		path, explicit = defaultConfigPath(), false
	}
	if path == "" {
		return v, nil
	}
	if _, err := os.Stat(path); err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return v, nil
		}
		return nil, fmt.Errorf("config file: %w", err)
	}
	file := viper.New()
	file.SetConfigFile(path)
	file.SetConfigType("yaml")
	if err := file.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	// A misspelt key would be silently ignored: refuse it.
	for _, k := range file.AllKeys() {
		if k == "config" || (cmd.Flags().Lookup(k) == nil && cmd.InheritedFlags().Lookup(k) == nil) {
			return nil, fmt.Errorf("config file %s: unknown key %q (keys are flag names, e.g. pull-policy)", path, k)
		}
	}
	if err := v.MergeConfigMap(file.AllSettings()); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return v, nil
}

func defaultConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "pys2i", "config.yaml")
}
