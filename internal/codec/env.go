package codec

// The environment the codec's keys and the codec server read. Keys are
// never read from the config file: they come from a file (a Kubernetes
// Secret mounted read-only) or the environment.
const (
	// EnvKeysFile names a file of keys, one "<key id>:<base64 of 32 bytes>"
	// per line; the first line's key encrypts unless EnvActiveKey says.
	EnvKeysFile = "LINKWRIGHT_CODEC_KEYS_FILE"
	// EnvKeys holds the same lines inline, separated by newlines or commas.
	EnvKeys = "LINKWRIGHT_CODEC_KEYS"
	// EnvActiveKey is the ID of the key that encrypts new payloads.
	EnvActiveKey = "LINKWRIGHT_CODEC_ACTIVE_KEY"
	// EnvAuthTokenFile names a file holding the bearer token the codec
	// server requires in Authorization (none: no token is required).
	EnvAuthTokenFile = "LINKWRIGHT_CODEC_AUTH_TOKEN_FILE"
	// EnvAllowOrigins lists the origins (the Web UI's) the codec server
	// answers cross-origin requests from, comma-separated.
	EnvAllowOrigins = "LINKWRIGHT_CODEC_ALLOW_ORIGINS"

	// ServerPort is the codec server's port in the image and manifests.
	ServerPort = 8081
	// DefaultServerListen is `linkwright codec-server`'s default address.
	DefaultServerListen = "127.0.0.1:8081"
)
