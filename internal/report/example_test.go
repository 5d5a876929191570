package report_test

import (
	"fmt"
	"os"
	"time"

	"github.com/kubeshield/kubeshield/internal/inventory"
	"github.com/kubeshield/kubeshield/internal/report"
)

func ExampleWriteCycloneDX() {
	s := report.SBOM{
		Subject: report.Subject{Kind: report.KindDirectory, Name: "./app"},
		Result: &inventory.Result{Packages: []inventory.Package{{
			Name:      "golang.org/x/text",
			Version:   "v0.14.0",
			Ecosystem: inventory.Go,
			Type:      "go-module",
			PURL:      "pkg:golang/golang.org/x/text@v0.14.0",
			Licenses:  []string{"BSD-3-Clause"},
			Locations: []inventory.Location{{Path: "go.mod"}},
		}}},
		Tool:    report.Tool{Name: "kubeshield", Version: "1.0.0"},
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if err := report.WriteCycloneDX(os.Stdout, s); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {
	//   "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
	//   "bomFormat": "CycloneDX",
	//   "specVersion": "1.6",
	//   "serialNumber": "urn:uuid:29093977-0e97-5b88-a487-093f5021fe35",
	//   "version": 1,
	//   "metadata": {
	//     "timestamp": "2025-01-02T03:04:05Z",
	//     "tools": {
	//       "components": [
	//         {
	//           "type": "application",
	//           "name": "kubeshield",
	//           "version": "1.0.0"
	//         }
	//       ]
	//     },
	//     "component": {
	//       "bom-ref": "subject-1d08cae6c8cf5490",
	//       "type": "application",
	//       "name": "./app"
	//     }
	//   },
	//   "components": [
	//     {
	//       "bom-ref": "pkg-1b0d62898586c8bd",
	//       "type": "library",
	//       "name": "golang.org/x/text",
	//       "version": "v0.14.0",
	//       "licenses": [
	//         {
	//           "license": {
	//             "id": "BSD-3-Clause"
	//           }
	//         }
	//       ],
	//       "purl": "pkg:golang/golang.org/x/text@v0.14.0",
	//       "properties": [
	//         {
	//           "name": "kubeshield:package:ecosystem",
	//           "value": "Go"
	//         },
	//         {
	//           "name": "kubeshield:package:type",
	//           "value": "go-module"
	//         },
	//         {
	//           "name": "kubeshield:location:0:path",
	//           "value": "go.mod"
	//         }
	//       ]
	//     }
	//   ],
	//   "dependencies": [
	//     {
	//       "ref": "subject-1d08cae6c8cf5490",
	//       "dependsOn": [
	//         "pkg-1b0d62898586c8bd"
	//       ]
	//     }
	//   ]
	// }
	//
}
