// AssetSync
