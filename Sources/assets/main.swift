import AssetsCLI

await AssetsCommand.main()
