import Crypto
import Foundation
import Testing

@testable import AssetServer

/// The signer against AWS's published examples (values from AWS's SigV4 and S3 documentation).
@Suite struct SigV4Tests {
    static let iamSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let s3Example = SigV4(
        credentials: .init(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            sessionToken: nil),
        region: "us-east-1")

    @Test func signingKeyOfTheDocumentedDerivation() {
        let key = SigV4.signingKey(secret: Self.iamSecret, day: "20150830", region: "us-east-1", service: "iam")
        #expect(key.hexString == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    @Test func canonicalRequestStringToSignAndSignatureOfTheIAMExample() {
        let canonical = SigV4.canonicalRequest(
            method: "GET", path: "/", query: [("Version", "2010-05-08"), ("Action", "ListUsers")],
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Host", "iam.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            payloadHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            canonical.text == """
                GET
                /
                Action=ListUsers&Version=2010-05-08
                content-type:application/x-www-form-urlencoded; charset=utf-8
                host:iam.amazonaws.com
                x-amz-date:20150830T123600Z

                content-type;host;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(canonical.signedHeaders == "content-type;host;x-amz-date")
        let stringToSign = SigV4.stringToSign(
            amzDate: "20150830T123600Z", scope: "20150830/us-east-1/iam/aws4_request", canonicalRequest: canonical.text)
        #expect(
            stringToSign == """
                AWS4-HMAC-SHA256
                20150830T123600Z
                20150830/us-east-1/iam/aws4_request
                f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59
                """)
        let signer = SigV4(
            credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.iamSecret, sessionToken: nil),
            region: "us-east-1", service: "iam")
        #expect(
            signer.signature(of: stringToSign, amzDate: "20150830T123600Z")
                == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    @Test func presignedGetOfTheS3Example() {
        let url = Self.s3Example.presignedURL(
            base: "https://examplebucket.s3.amazonaws.com", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
            amzDate: "20130524T000000Z", expires: 86400)
        #expect(
            url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func headerSignedGetObjectWithRangeOfTheS3Example() {
        let headers = Self.s3Example.authorizationHeaders(
            method: "GET", host: "examplebucket.s3.amazonaws.com", encodedPath: "/test.txt",
            headers: [("Range", "bytes=0-9")], payloadHash: SigV4.emptyPayloadHash, amzDate: "20130524T000000Z")
        let authorization = headers.first { $0.0 == "Authorization" }?.1
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers.contains { $0 == ("x-amz-date", "20130524T000000Z") })
        #expect(headers.contains { $0 == ("x-amz-content-sha256", SigV4.emptyPayloadHash) })
    }

    @Test func headerSignedListObjectsOfTheS3Example() {
        let headers = Self.s3Example.authorizationHeaders(
            method: "GET", host: "examplebucket.s3.amazonaws.com", encodedPath: "/",
            query: [("prefix", "J"), ("max-keys", "2")], payloadHash: SigV4.emptyPayloadHash,
            amzDate: "20130524T000000Z")
        let authorization = headers.first { $0.0 == "Authorization" }?.1 ?? ""
        #expect(authorization.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    @Test func pathsAndQueriesAreEncodedAsS3EncodesThem() {
        #expect(SigV4.encodePath("/b/a b+c/ü~_.-$") == "/b/a%20b%2Bc/%C3%BC~_.-%24")
        #expect(SigV4.canonicalQuery([("b", "x/y"), ("a", "2"), ("a", "1")]) == "a=1&a=2&b=x%2Fy")
    }

    @Test func aPostPolicyIsWrittenAsPythonsJSONWritesIt() {
        let document = SigV4.policyDocument(
            expiration: "2026-12-02T16:00:00Z",
            conditions: [.contentLengthRange(0, 10), .startsWith("a", ""), .equals("key", "é\"\\\n\u{1F600}")])
        #expect(
            document == #"{"expiration": "2026-12-02T16:00:00Z", "conditions": [["content-length-range", 0, 10], "#
                + #"["starts-with", "$a", ""], {"key": "\u00e9\"\\\n\ud83d\ude00"}]}"#)
    }
}
