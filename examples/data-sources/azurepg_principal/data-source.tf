data "azurepg_principal" "pipeline" {
  name = "ci-pipeline-mi"
}

output "pipeline_is_admin" {
  value = data.azurepg_principal.pipeline.admin
}

output "pipeline_object_id" {
  value = data.azurepg_principal.pipeline.object_id
}
