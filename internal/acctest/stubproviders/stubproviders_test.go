package stubproviders

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestSchemas serves each stub as Terraform would and checks that the
// framework accepts its schema and announces every declared type.
func TestSchemas(t *testing.T) {
	ctx := context.Background()
	for name, p := range Providers() {
		t.Run(name, func(t *testing.T) {
			var resources, dataSources int
			switch p.Protocol {
			case 5:
				resp, err := providerserver.NewProtocol5(New(p)())().GetProviderSchema(ctx, &tfprotov5.GetProviderSchemaRequest{})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range resp.Diagnostics {
					t.Errorf("%s: %s", d.Summary, d.Detail)
				}
				resources, dataSources = len(resp.ResourceSchemas), len(resp.DataSourceSchemas)
			case 6:
				resp, err := providerserver.NewProtocol6(New(p)())().GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range resp.Diagnostics {
					t.Errorf("%s: %s", d.Summary, d.Detail)
				}
				resources, dataSources = len(resp.ResourceSchemas), len(resp.DataSourceSchemas)
			default:
				t.Fatalf("protocol %d", p.Protocol)
			}
			if resources != len(p.Resources) || dataSources != len(p.DataSources) {
				t.Errorf("served %d resources and %d data sources, declared %d and %d", resources, dataSources, len(p.Resources), len(p.DataSources))
			}
		})
	}
}
