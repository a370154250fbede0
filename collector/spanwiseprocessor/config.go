package spanwiseprocessor

import (
	"encoding/json"
	"errors"

	"go.opentelemetry.io/collector/confmap"
)

// Config is a spanwise processor's block: the same keys as `processors.wasm/NAME` in a spanwise
// config (plugin, sha256, on_error, limits, keys, config, pool_size, traps). The block is kept
// as it is and checked by the spanwise host, so every key, default and error message is the
// host's own.
type Config struct {
	block map[string]any
}

var _ confmap.Unmarshaler = (*Config)(nil)

// Unmarshal keeps the block as given (after the collector expanded ${env:...} and friends).
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	c.block = conf.ToStringMap()
	return nil
}

// blockJSON is the block as the host reads it.
func (c *Config) blockJSON() ([]byte, error) {
	block := c.block
	if block == nil {
		block = map[string]any{}
	}
	return json.Marshal(block)
}

// Validate checks the block with the host's rules, without loading the plugin.
func (c *Config) Validate() error {
	block, err := c.blockJSON()
	if err != nil {
		return errors.New("the block cannot be turned into JSON: " + err.Error())
	}
	return checkBlock(block)
}
