import Nuvola
import Testing

@Suite struct ResourceNamesTests {
    @Test(arguments: ["abc", "shop-dumps", "a.b.c", "nuvola-x1z9qa-artifacts", String(repeating: "a", count: 63)])
    func validBucketNames(name: String) { #expect(ResourceNames.bucketNameProblem(name) == nil) }

    @Test(arguments: ["ab", String(repeating: "a", count: 64), "Shop", "shop_dumps", "-shop", "shop.", "a..b", "10.0.0.1",
                      "xn--shop", "sthree-x", "shop-s3alias", "shop--ol-s3", "shop.mrap", "shop--x-s3"])
    func invalidBucketNames(name: String) { #expect(ResourceNames.bucketNameProblem(name) != nil) }

    @Test func projectNamesFitTheStrictestName() {
        #expect(ResourceNames.projectNameProblem("nuvola") == nil)
        #expect(ResourceNames.projectNameProblem("ab")?.hasPrefix("must be 3 to 20 characters") == true)
        #expect(ResourceNames.projectNameProblem("Shop") == "must be lowercase letters, digits and '-', starting with a letter and not "
            + "ending with '-' (S3 bucket and IAM names allow no more), not 'Shop'")
    }
}
