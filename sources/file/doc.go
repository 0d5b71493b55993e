// Package file is a directory source that reads users and groups from a
// YAML, JSON or CSV file: an HR export, a demo, a test. The file is read
// afresh on every sync.
//
// YAML (or the same shape in JSON):
//
//	users:
//	  - {id: u1, email: Alice@Example.com, name: Alice Liddell, disabled: false}
//	groups:
//	  - {id: g1, name: Engineering, members: [u1]}
//
// CSV has a header row naming its columns: id and email are required; name,
// disabled (true/false, yes/no, 1/0) and groups (group names separated by
// semicolons; each name is also the group's external id) are optional:
//
//	id,email,name,disabled,groups
//	u1,alice@example.com,Alice Liddell,false,Engineering;Design
//
// Configuration, under source.file:
//
//	path: /etc/dirbridge/directory.yaml
//	format: ""   # yaml | json | csv; default: from the file's extension
package file
