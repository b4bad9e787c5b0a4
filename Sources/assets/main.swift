import AssetsCLI

await AssetsCommand.runMain()
