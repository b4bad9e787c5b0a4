// AssetServer
